/* tape.h - the tape's node type and the helpers every op file uses to record itself.
 * Internal to src/ops. */
#ifndef DEEPC_OPS_TAPE_H
#define DEEPC_OPS_TAPE_H

#include "deepc/ops.h"
#include "deepc/tensor.h"

#define DC_NODE_MAX_INPUTS 4

/* Propagates node->out->grad into the grads of the inputs that require them. */
typedef void (*dc_backward_fn)(dc_node *node);

struct dc_node {
    dc_backward_fn backward;
    const char *name;                       /* op name, for messages */
    dc_tensor *out;
    dc_tensor *in[DC_NODE_MAX_INPUTS];
    int n_in;
    void *saved;                            /* op-specific buffer in the arena */
    float fparam[4];                        /* op-specific scalars */
    int iparam[8];
};

/* True when `x` should receive a gradient in the pass being recorded. */
static inline int dc_wants_grad(const dc_tensor *x)
{
    return x && x->requires_grad;
}

/* Records a node if grad mode is on and any input requires gradients; marks `out`
 * as requiring gradients in that case. Returns the node or NULL (nothing recorded). */
dc_node *dc_record(const char *name, dc_backward_fn backward, dc_tensor *out,
                   int n_in, dc_tensor *const *in);

/* The gradient buffer of input i if it wants one (allocated on demand), else NULL. */
float *dc_node_in_grad(dc_node *node, int i);

#endif
