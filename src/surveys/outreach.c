/*
 * outreach.c - what surveys take from the shared outreach layer
 * (src/outreach/): one unsubscribe list per shop for every marketing
 * programme. The contact policy and the sender are used directly by the
 * sending job (surveys/send.c).
 */
#include "aftersale/outreach/outreach.h"
#include "aftersale/surveys/surveys.h"

int
surveys_outreach_unsubscribed(struct db_conn *c, int64_t shop_id, const char *email, bool *out,
                              struct err *e)
{
    return outreach_unsubscribed(c, shop_id, email, out, e);
}
