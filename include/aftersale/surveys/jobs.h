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
 * surveys.alert    (outbound) an unhappy answer: email to alert_email
 * surveys.alert_note (outbound) the same as a private order note
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
void surveys_job_alert(struct job_env *env, const struct job *job, struct job_outcome *out);
void surveys_job_alert_note(struct job_env *env, const struct job *job, struct job_outcome *out);
/* In the transaction that records a response: enqueue the alert jobs
 * (once per response) when its score is at or under its threshold. */
int surveys_alert_maybe(struct db_conn *c, int64_t shop_id, int64_t invitation_id, bool hold,
                        struct err *e);
void surveys_job_send(struct job_env *env, const struct job *job, struct job_outcome *out);
/* Before the first email of a scheduled invitation (surveys.send): the
 * survey's category filters on the order's categories as known now (an
 * unknown product adds none); an order they leave out has its invitation
 * cancelled with the filter's reason in cancel_reason, and *cancelled
 * set. No filters: nothing to do. */
int surveys_invitation_categories_check(struct db_conn *c, int64_t shop_id,
                                        int64_t invitation_id, bool *cancelled, struct err *e);

#endif
