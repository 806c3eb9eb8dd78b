/* internal.h - declarations shared inside the library, never by experiments or tools. */
#ifndef DEEPC_CORE_INTERNAL_H
#define DEEPC_CORE_INTERNAL_H

#include "deepc/tensor.h"

/* Forgets every recorded node (the arena memory they live in is reset separately). */
void dc_tape_clear(void);

#endif
