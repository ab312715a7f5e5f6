/*
 * routes.h - THE route table (routes.c) and the handlers it names.
 *
 * routes.c and openapi/openapi.yaml describe the same routes; `aftersale
 * routes` prints this table and a test compares it with the spec.
 */
#ifndef AFTERSALE_HTTP_ROUTES_H
#define AFTERSALE_HTTP_ROUTES_H

#include <stddef.h>
#include <stdio.h>

#include "aftersale/http/router.h"

extern const struct route routes[];
extern const size_t nroutes;

void routes_print(FILE *out);

#endif
