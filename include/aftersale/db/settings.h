/*
 * settings.h - per-shop settings documents (jsonb), one row per shop and
 * programme. The programmes own what the document means (defaults,
 * validation); this module only reads and writes it, so loyalty and
 * reviews share one load and one save instead of a copy each.
 */
#ifndef AFTERSALE_DB_SETTINGS_H
#define AFTERSALE_DB_SETTINGS_H

#include <jansson.h>
#include <stdint.h>

#include "aftersale/db/pool.h"

enum db_settings { DB_SETTINGS_LOYALTY, DB_SETTINGS_REVIEWS, DB_SETTINGS_MESSAGING, DB_SETTINGS_RETURNS };

/* *doc = the stored document (new reference), or NULL when the shop has
 * none yet. ERR_INTERNAL when the stored text does not parse. */
int db_settings_load(struct db_conn *c, enum db_settings which, int64_t shop_id, json_t **doc,
                     struct err *e);
/* Insert or replace the document (borrowed). */
int db_settings_save(struct db_conn *c, enum db_settings which, int64_t shop_id,
                     const json_t *doc, struct err *e);

#endif
