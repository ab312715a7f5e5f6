/*
 * jobs.h - the survey job kinds (registered in jobs/worker.c).
 *
 * surveys.schedule (internal) order.completed / order.delivered -> an
 *                  invitation per active survey the order qualifies for
 * surveys.cancel   (internal) order.refunded (full) / order.cancelled ->
 *                  cancel the invitations not sent yet
 * surveys.send     (outbound) the invitation email of one invitation, when
 *                  due (contact policy, unsubscribe list: surveys/send.c),
 *                  and its reminders (payload "reminder": n)
 * surveys.expire   (internal) a sent, unanswered invitation whose window
 *                  closed becomes 'expired'
 */
#ifndef AFTERSALE_SURVEYS_JOBS_H
#define AFTERSALE_SURVEYS_JOBS_H

#include "aftersale/jobs/worker.h"

int surveys_job_schedule(struct db_conn *c, struct job_env *env, const struct job *job,
                         struct job_outcome *out, struct err *e);
int surveys_job_cancel(struct db_conn *c, struct job_env *env, const struct job *job,
                       struct job_outcome *out, struct err *e);

int surveys_job_expire(struct db_conn *c, struct job_env *env, const struct job *job,
                       struct job_outcome *out, struct err *e);
void surveys_job_send(struct job_env *env, const struct job *job, struct job_outcome *out);

#endif
