/*
 * jobs.h - the job kinds of outbound webhooks.
 *
 * hooks.deliver (outbound): one delivery of one message to one endpoint;
 *   reschedules itself with backoff until it succeeds or is older than
 *   WEBHOOK_DISABLE_AFTER_S. Payload {"delivery_id": n}.
 * hooks.alert (outbound): the email to the merchant's alert address that
 *   an endpoint was disabled. Payload {"endpoint_id": n}.
 */
#ifndef AFTERSALE_HOOKS_JOBS_H
#define AFTERSALE_HOOKS_JOBS_H

#include "aftersale/jobs/worker.h"

void hooks_job_deliver(struct job_env *env, const struct job *job, struct job_outcome *out);
void hooks_job_alert(struct job_env *env, const struct job *job, struct job_outcome *out);

#endif
