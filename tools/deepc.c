/* deepc.c - the command-line tool (being written). */
#include <stdio.h>

#include "deepc/tensor.h"

int main(void)
{
    printf("deepc %s\n", DC_VERSION);
    return 0;
}
