/* version.h - the version string; the commit comes from the Makefile (-DAFTERSALE_COMMIT). */
#ifndef AFTERSALE_VERSION_H
#define AFTERSALE_VERSION_H

#define AFTERSALE_VERSION "0.1.0"
#ifndef AFTERSALE_COMMIT
#define AFTERSALE_COMMIT "unknown"
#endif

#endif
