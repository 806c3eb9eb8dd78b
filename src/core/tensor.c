/* tensor.c - creation, views and gradient buffers of float32 tensors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/tensor.h"

static int check_shape(int ndim, const int *shape, size_t *size)
{
    *size = 1;
    if (ndim < 0 || ndim > DC_MAX_DIMS)
        return dc_fail(DC_ERR_SHAPE, "tensor: %d dimensions, expected 0 to %d", ndim,
                       DC_MAX_DIMS);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0)
            return dc_fail(DC_ERR_SHAPE, "tensor: dimension %d has size %d, expected > 0",
                           i, shape[i]);
        if (*size > SIZE_MAX / sizeof(float) / (size_t)shape[i])
            return dc_fail(DC_ERR_SHAPE, "tensor: shape too large to address");
        *size *= (size_t)shape[i];
    }
    return DC_OK;
}

static void set_shape(dc_tensor *t, int ndim, const int *shape, size_t size)
{
    t->ndim = ndim;
    for (int i = 0; i < DC_MAX_DIMS; i++)
        t->shape[i] = i < ndim ? shape[i] : 1;
    t->size = size;
}

dc_tensor *dc_tensor_new(int ndim, const int *shape)
{
    size_t size;
    dc_tensor *t;

    if (check_shape(ndim, shape, &size) != DC_OK)
        return NULL;
    t = dc_calloc(1, sizeof *t, "tensor header");
    if (!t)
        return NULL;
    t->data = dc_calloc(size, sizeof(float), "tensor data");
    if (!t->data) {
        free(t);
        return NULL;
    }
    set_shape(t, ndim, shape, size);
    t->on_heap = 1;
    return t;
}

dc_tensor *dc_tensor_new1(int d0)
{
    return dc_tensor_new(1, (int[]){d0});
}

dc_tensor *dc_tensor_new2(int d0, int d1)
{
    return dc_tensor_new(2, (int[]){d0, d1});
}

dc_tensor *dc_tensor_new4(int d0, int d1, int d2, int d3)
{
    return dc_tensor_new(4, (int[]){d0, d1, d2, d3});
}

void dc_tensor_free(dc_tensor *t)
{
    if (!t)
        return;
    if (t->on_heap) {
        free(t->data);
        free(t->grad);
        free(t);
    }
}

dc_tensor *dc_tensor_tmp(int ndim, const int *shape)
{
    size_t size;
    dc_tensor *t;

    /* Shapes reaching here come from ops that already checked them. */
    if (check_shape(ndim, shape, &size) != DC_OK) {
        fprintf(stderr, "error: %s\n", dc_last_error());
        abort();
    }
    t = dc_arena_alloc(sizeof *t);
    memset(t, 0, sizeof *t);
    t->data = dc_arena_alloc(size * sizeof(float));
    memset(t->data, 0, size * sizeof(float));
    set_shape(t, ndim, shape, size);
    return t;
}

dc_tensor *dc_tensor_view(dc_tensor *src, int ndim, const int *shape)
{
    size_t size;
    dc_tensor *t;

    if (check_shape(ndim, shape, &size) != DC_OK || size != src->size)
        return NULL;
    t = dc_arena_alloc(sizeof *t);
    memset(t, 0, sizeof *t);
    t->data = src->data;
    set_shape(t, ndim, shape, size);
    return t;
}

float *dc_tensor_grad(dc_tensor *t)
{
    if (t->grad)
        return t->grad;
    if (t->on_heap) {
        t->grad = calloc(t->size, sizeof(float));
        if (!t->grad) {
            fprintf(stderr, "error: out of memory for a gradient of %zu floats\n", t->size);
            abort();
        }
    } else {
        t->grad = dc_arena_alloc(t->size * sizeof(float));
        memset(t->grad, 0, t->size * sizeof(float));
    }
    return t->grad;
}

void dc_tensor_zero_grad(dc_tensor *t)
{
    if (t->grad)
        memset(t->grad, 0, t->size * sizeof(float));
}

int dc_shape_equal(const dc_tensor *a, const dc_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

char *dc_shape_str(const dc_tensor *t, char *buf, size_t n)
{
    size_t used = 0;

    used += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ",%d" : "%d", t->shape[i]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
    return buf;
}
