/* base64.h - RFC 4648 base64, for embedding images in the HTML report (report.c).
 * Internal to the library; tests include it to check the encoder against the RFC. */
#ifndef DEEPC_VIZ_BASE64_H
#define DEEPC_VIZ_BASE64_H

#include <stddef.h>

/* The base64 text (standard alphabet, '=' padding, no line breaks) of the n bytes at
 * `data`: 4 * ceil(n / 3) characters and a NUL. Owned by the caller (free); NULL with a
 * message from dc_last_error if memory runs out. `data` may be NULL when n is 0. */
char *dc_base64_encode(const void *data, size_t n);

#endif
