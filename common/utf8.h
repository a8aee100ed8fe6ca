/* utf8.h - one UTF-8 validator for every place that must keep text valid
 * (audit records, control-socket replies, quoted values in messages). */
#ifndef OMBX_COMMON_UTF8_H
#define OMBX_COMMON_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at s, with n bytes available; 0
 * if it is not one (overlong forms, surrogates and code points past
 * U+10FFFF are not). */
size_t ombx_utf8_seq(const unsigned char *s, size_t n);

#endif
