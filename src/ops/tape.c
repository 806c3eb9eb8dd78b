/* tape.c - define-by-run reverse-mode autodiff: recording nodes and walking them back.
 *
 * Nodes live in the step arena; the tape itself is a heap array of node pointers that
 * grows to the largest step seen and is then reused, so recording allocates nothing
 * from the system in the steady state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/tape.h"

static dc_node **tape;
static int tape_len;
static int tape_cap;
static int grad_on = 1;

int dc_grad_enabled(int on)
{
    int prev = grad_on;

    grad_on = on;
    return prev;
}

int dc_grad_is_enabled(void)
{
    return grad_on;
}

int dc_tape_size(void)
{
    return tape_len;
}

void dc_tape_clear(void)
{
    tape_len = 0;
}

static void tape_push(dc_node *node)
{
    if (tape_len == tape_cap) {
        int cap = tape_cap ? tape_cap * 2 : 256;
        dc_node **grown = realloc(tape, (size_t)cap * sizeof *grown);
        if (!grown) {
            fprintf(stderr, "error: out of memory growing the tape to %d nodes\n", cap);
            abort();
        }
        tape = grown;
        tape_cap = cap;
    }
    tape[tape_len++] = node;
}

dc_node *dc_record(const char *name, dc_backward_fn backward, dc_tensor *out,
                   int n_in, dc_tensor *const *in)
{
    int any = 0;
    dc_node *node;

    if (!grad_on)
        return NULL;
    for (int i = 0; i < n_in; i++)
        any |= dc_wants_grad(in[i]);
    if (!any)
        return NULL;

    node = dc_arena_alloc(sizeof *node);
    memset(node, 0, sizeof *node);
    node->backward = backward;
    node->name = name;
    node->out = out;
    node->n_in = n_in;
    for (int i = 0; i < n_in; i++)
        node->in[i] = in[i];
    out->requires_grad = 1;
    out->node = node;
    tape_push(node);
    return node;
}

float *dc_node_in_grad(dc_node *node, int i)
{
    dc_tensor *x = node->in[i];

    return dc_wants_grad(x) ? dc_tensor_grad(x) : NULL;
}

dc_status dc_backward(dc_tensor *loss)
{
    if (loss->size != 1)
        return dc_fail(DC_ERR_SHAPE, "backward: loss has %zu elements, expected 1",
                       loss->size);
    if (!loss->requires_grad)
        return dc_fail(DC_ERR_ARG, "backward: the loss does not depend on anything that "
                                   "requires gradients");

    dc_tensor_grad(loss)[0] += 1.0f;

    /* Nodes were recorded in execution order, so reverse order visits every consumer
     * of a tensor before its producer. A node whose output got no gradient (a branch
     * that does not reach the loss) is skipped. */
    for (int i = tape_len - 1; i >= 0; i--) {
        dc_node *node = tape[i];
        if (node->out->grad)
            node->backward(node);
    }
    return DC_OK;
}
