/*
 * jobs.h - the outreach layer's job kind (registered in jobs/worker.c).
 *
 * outreach.test_email (outbound) a test email to an address the merchant
 *                     names (POST /v1/messaging/test-email), in the shop's
 *                     sender and brand: a transactional message, so it goes
 *                     out past the contact policy and an unsubscribe, is
 *                     logged as transactional and counts against no cap.
 */
#ifndef AFTERSALE_OUTREACH_JOBS_H
#define AFTERSALE_OUTREACH_JOBS_H

#include "aftersale/jobs/worker.h"

void outreach_job_test_email(struct job_env *env, const struct job *job, struct job_outcome *out);

#endif
