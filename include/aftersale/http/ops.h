/* ops.h - operations endpoints: /healthz, /readyz, /metrics. */
#ifndef AFTERSALE_HTTP_OPS_H
#define AFTERSALE_HTTP_OPS_H

#include "aftersale/http/req.h"

void ops_handle_healthz(struct req *r);
void ops_handle_readyz(struct req *r);
void ops_handle_metrics(struct req *r);

#endif
