/* params.c - a model's named parameters and buffers, their initialisation, and saving
 * them as a state_dict-like safetensors file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/nn.h"

dc_params *dc_params_new(void)
{
    return dc_calloc(1, sizeof(dc_params), "parameter list");
}

void dc_params_free(dc_params *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++) {
        free((char *)p->items[i].name);
        dc_tensor_free(p->items[i].tensor);
    }
    free(p->items);
    free(p);
}

static dc_tensor *params_register(dc_params *p, const char *name, int ndim,
                                  const int *shape, int trainable)
{
    dc_tensor *t;
    char *copy;

    if (!name || !*name || dc_params_find(p, name)) {
        dc_fail(DC_ERR_ARG, "params: name \"%s\" is empty or already registered",
                name ? name : "");
        return NULL;
    }
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        dc_named_tensor *grown = realloc(p->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            dc_fail(DC_ERR_NOMEM, "params: out of memory for %d entries", cap);
            return NULL;
        }
        p->items = grown;
        p->cap = cap;
    }
    t = dc_tensor_new(ndim, shape);
    copy = t ? strdup(name) : NULL;
    if (!copy) {
        dc_tensor_free(t);
        return NULL;
    }
    t->requires_grad = trainable;
    p->items[p->n++] = (dc_named_tensor){copy, t};
    return t;
}

dc_tensor *dc_params_add(dc_params *p, const char *name, int ndim, const int *shape)
{
    return params_register(p, name, ndim, shape, 1);
}

dc_tensor *dc_params_add_buffer(dc_params *p, const char *name, int ndim, const int *shape)
{
    return params_register(p, name, ndim, shape, 0);
}

dc_tensor *dc_params_find(const dc_params *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->items[i].name, name) == 0)
            return p->items[i].tensor;
    return NULL;
}

size_t dc_params_count(const dc_params *p)
{
    size_t total = 0;

    for (int i = 0; i < p->n; i++)
        if (p->items[i].tensor->requires_grad)
            total += p->items[i].tensor->size;
    return total;
}

void dc_params_zero_grad(dc_params *p)
{
    for (int i = 0; i < p->n; i++)
        dc_tensor_zero_grad(p->items[i].tensor);
}

dc_status dc_params_save(const dc_params *p, const char *path, const char *const *meta,
                         int n_meta)
{
    return dc_safetensors_save(path, p->items, p->n, meta, n_meta);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A checkpoint with a NaN weight or a negative batch-norm variance loads without a shape
 * error and then scores garbage; it is refused here, naming the tensor. */
dc_status dc_params_check_values(const char *path, const char *name, const dc_tensor *t)
{
    int variance = ends_with(name, ".running_var");

    for (size_t i = 0; i < t->size; i++) {
        if (!isfinite(t->data[i]))
            return dc_fail(DC_ERR_FORMAT, "%s: tensor %s holds %g at index %zu, expected "
                           "finite values", path, name, t->data[i], i);
        if (variance && t->data[i] < 0.0f)
            return dc_fail(DC_ERR_FORMAT, "%s: tensor %s holds the variance %g at index "
                           "%zu, expected >= 0", path, name, t->data[i], i);
    }
    return DC_OK;
}

dc_status dc_params_load(dc_params *p, const char *path)
{
    dc_safetensors *st = dc_safetensors_load(path);
    dc_status s = DC_OK;

    if (!st)
        return DC_ERR_FORMAT;
    for (int i = 0; i < p->n && s == DC_OK; i++)
        s = dc_safetensors_copy_into(st, p->items[i].name, p->items[i].tensor);
    for (int i = 0; i < p->n && s == DC_OK; i++)
        s = dc_params_check_values(path, p->items[i].name, p->items[i].tensor);
    dc_safetensors_free(st);
    return s;
}

void dc_init_uniform(dc_tensor *t, float lo, float hi, dc_rng *rng)
{
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = lo + (hi - lo) * dc_rng_uniform(rng);
}

void dc_init_normal(dc_tensor *t, float mean, float std, dc_rng *rng)
{
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = mean + std * dc_rng_normal(rng);
}
