/*
 * rules.h - the pure parts of surveys: the definition's validation
 * (questions, conditions, trigger, audience), the templates, which orders
 * are invited (audience, sampling), the answers' validation against a
 * version, and the report's figures (NPS with its margin of error, CSAT,
 * CES). No I/O; thread-safe. docs/surveys.md states the rules.
 *
 * Errors are 422 naming the field as a path: "questions[2].show_if.question",
 * "audience.countries[0]", "answers.nps".
 */
#ifndef AFTERSALE_SURVEYS_RULES_H
#define AFTERSALE_SURVEYS_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/err.h"

#define SURVEYS_MAX_QUESTIONS 20
#define SURVEYS_MAX_CHOICES 30
#define SURVEYS_MAX_LIST 200 /* countries, products */

enum surveys_kind {
    SURVEYS_NPS,      /* 0..10 */
    SURVEYS_CSAT,     /* 1..5 */
    SURVEYS_CES,      /* 1..7 */
    SURVEYS_RATING,   /* 1..5 stars */
    SURVEYS_SINGLE,   /* one choice id */
    SURVEYS_MULTIPLE, /* one or more choice ids */
    SURVEYS_TEXT,
    SURVEYS_KIND_COUNT
};

/* Kind of a name ("nps"), or -1. */
int surveys_kind_parse(const char *name);
const char *surveys_kind_name(enum surveys_kind k);
/* Scale of a scored kind: true with the bounds in lo and hi for nps, csat, ces, rating. */
bool surveys_kind_scale(enum surveys_kind k, int *lo, int *hi);

/* Check the questions of a definition. Returns: new reference, the
 * questions normalised (`required` false and `other` false made explicit),
 * or NULL with e (422 naming "questions[i]...."). */
json_t *surveys_questions_check(const json_t *questions, struct err *e);

/* The survey's settings: trigger {event, delay}, audience, sampling_rate,
 * recontact_days, expiry. `base` (borrowed, may be NULL: the defaults) is
 * what `in`'s keys are merged over; only the keys named in `keys`
 * (NULL-terminated) are read from `in`. Returns: new reference, or NULL
 * with e. */
json_t *surveys_settings_merge(const json_t *base, const json_t *in, struct err *e);
json_t *surveys_settings_default(void);

/* The built-in templates: an array of {name, title, questions, settings}
 * (new reference), and one by name (new reference, or NULL). */
json_t *surveys_templates(void);
json_t *surveys_template(const char *name);

/* ---- who is invited ------------------------------------------------------ */

struct surveys_order {
    int64_t order_id;
    bool first_order;
    const char *country; /* billing country, "" when unknown */
    const char *total;   /* decimal string */
    const int64_t *products;
    int nproducts;
    /* The union of the categories of its products (woo/products.c), and
     * whether some product's categories are not known yet. */
    const int64_t *categories;
    int ncategories;
    bool categories_unknown;
};

/* True when the order is in the audience of `settings` (normalised);
 * otherwise false and *why says which filter left it out. */
bool surveys_audience_match(const json_t *settings, const struct surveys_order *o,
                            const char **why);
/* Category filters (audience.include_categories / exclude_categories):
 * whether the survey has any, and the decision on them alone, reading the
 * order's known categories (an unknown product adds none). When
 * o->categories_unknown, surveys_audience_match passes the order (the
 * sending job decides on categories). */
bool surveys_audience_has_categories(const json_t *settings);
bool surveys_audience_categories_match(const json_t *settings, const struct surveys_order *o,
                                       const char **why);

/* Deterministic sampling: true when the order falls in the sample of
 * `rate_bp` basis points (0..10000) for this survey. The same (survey,
 * order) always gives the same answer. */
uint64_t surveys_sample_hash(int64_t survey_id, int64_t order_id);
bool surveys_sampled(int64_t survey_id, int64_t order_id, int rate_bp);
/* sampling_rate of normalised settings, in basis points. */
int surveys_rate_bp(const json_t *settings);

/* ---- answers ------------------------------------------------------------- */

struct surveys_answers {
    json_t *answers;  /* {"qid": value} as kept: hidden questions' answers dropped */
    json_t *other;    /* {"qid": "text"} for the "other" choices */
    json_t *facets;   /* ["qid=value", ...] counted by the reports */
    json_t *dropped;  /* ["qid", ...]: answers to questions the conditions hid */
    bool complete;    /* every visible required question answered */
    int score;        /* the first scored question's answer, -1 when none */
    char *search;     /* the free texts joined, for search (owned) */
};

/* Check `answers` ({"qid": value}) and `other` (may be NULL) against the
 * questions of one version. A question whose show_if does not hold is
 * hidden: an answer to it is dropped (listed in `dropped`), not refused.
 * Unless `partial`, a visible required question without an answer is 422.
 * Returns 0 with out filled (release with surveys_answers_clear), -1 with e. */
int surveys_answers_check(const json_t *questions, const json_t *answers, const json_t *other,
                          bool partial, struct surveys_answers *out, struct err *e);
void surveys_answers_clear(struct surveys_answers *a);

/* Is question q shown, given the kept answers so far (surveys_answers.answers)?
 * A question without show_if always is; one whose condition names a hidden
 * or unanswered question is not (the answer page asks it once that question
 * is answered). */
bool surveys_question_visible(const json_t *q, const json_t *kept);
/* Check one answer `v` for question q (its kind's scale, its choices, a
 * text of at most 5000 characters); 0, or -1 with e naming `field`. */
int surveys_answer_check(const json_t *q, const json_t *v, const char *field, struct err *e);

/* ---- report math ---------------------------------------------------------- */

struct surveys_nps {
    int64_t n, promoters, passives, detractors;
    double nps; /* -100..100 */
    double moe; /* 95% margin of error, in NPS points */
};

/* From the counts of the scores 0..10. */
void surveys_nps_compute(const int64_t counts[11], struct surveys_nps *out);

/* The figures of one group of facet counts ({"#sent": n, "#response": n,
 * "qid=value": n}) for `questions` (the kinds): invitations_sent,
 * responses, response_rate, nps, csat, ces and every question's
 * distribution. Returns: new reference. */
json_t *surveys_metrics(const json_t *questions, const json_t *counts);

#endif
