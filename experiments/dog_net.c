/* dog_net.c - the depthwise-separable dog-emotion CNN and its image pipelines (see
 * dog_net.h). */
#include <stdio.h>

#include "deepc/image.h"
#include "deepc/ops.h"
#include "dog_net.h"

static const int block_out[DOG_BLOCKS] = {32, 32, 64, 64, 128, 128};
static const int block_stride[DOG_BLOCKS] = {2, 1, 2, 1, 2, 1};

static int block_init(dog_block *b, dc_params *p, int i, int in, int out, int stride,
                      dc_rng *rng)
{
    char name[64];

    snprintf(name, sizeof name, "blocks.%d.depthwise", i);
    if (dc_conv2d_layer_init(&b->depthwise, p, name, in, in, 3, stride, 1, in, 0, rng))
        return -1;
    snprintf(name, sizeof name, "blocks.%d.pointwise", i);
    if (dc_conv2d_layer_init(&b->pointwise, p, name, in, out, 1, 1, 0, 1, 0, rng))
        return -1;
    snprintf(name, sizeof name, "blocks.%d.bn", i);
    return dc_batchnorm_layer_init(&b->bn, p, name, out) == DC_OK ? 0 : -1;
}

int dog_net_init(dog_net *net, int classes, dc_rng *rng)
{
    int in = 16;

    net->dropout = 0.5f;
    if (!(net->params = dc_params_new()))
        return -1;
    if (dc_conv2d_layer_init(&net->stem, net->params, "stem.conv", 3, 16, 3, 1, 1, 1, 1, rng)
        || dc_batchnorm_layer_init(&net->stem_bn, net->params, "stem.bn", 16))
        return -1;
    for (int i = 0; i < DOG_BLOCKS; i++) {
        if (block_init(&net->blocks[i], net->params, i, in, block_out[i], block_stride[i],
                       rng))
            return -1;
        in = block_out[i];
    }
    if (dc_linear_layer_init(&net->fc1, net->params, "head.fc1", in, 128, 1, rng)
        || dc_batchnorm_layer_init(&net->fc_bn, net->params, "head.bn", 128)
        || dc_linear_layer_init(&net->fc2, net->params, "head.fc2", 128, classes, 1, rng))
        return -1;
    return 0;
}

void dog_net_free(dog_net *net)
{
    dc_params_free(net->params);
    net->params = NULL;
}

/* Every op returns NULL with a message on a bad shape; a NULL input passes through, so
 * the caller checks once at the end. */
static dc_tensor *bn_relu(dc_batchnorm_layer *bn, dc_tensor *x, int training)
{
    x = x ? dc_batchnorm_layer_forward(bn, x, training) : NULL;
    return x ? dc_relu(x) : NULL;
}

dc_tensor *dog_net_forward(dog_net *net, dc_tensor *x, int training, dc_rng *rng)
{
    x = bn_relu(&net->stem_bn, dc_conv2d_layer_forward(&net->stem, x), training);
    for (int i = 0; i < DOG_BLOCKS && x; i++) {
        dog_block *b = &net->blocks[i];
        x = dc_conv2d_layer_forward(&b->depthwise, x);
        x = x ? dc_conv2d_layer_forward(&b->pointwise, x) : NULL;
        x = bn_relu(&b->bn, x, training);
    }
    x = x ? dc_flatten(dc_adaptive_avg_pool2d_1x1(x)) : NULL;
    x = x ? bn_relu(&net->fc_bn, dc_linear_layer_forward(&net->fc1, x), training) : NULL;
    x = x ? dc_dropout(x, net->dropout, training, rng) : NULL;
    return x ? dc_linear_layer_forward(&net->fc2, x) : NULL;
}

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

void dog_train_pipeline(dc_pipeline *p, int size, int augment, int normalize)
{
    dc_transform t;

    dc_pipeline_init(p);
    if (!augment) {
        t = dc_transform_resize_hw(size, size);
        dc_pipeline_add(p, &t);
    } else {
        t = dc_transform_random_resized_crop(size, size);
        t.rrc.scale[0] = 0.7f, t.rrc.scale[1] = 1.0f;
        dc_pipeline_add(p, &t);
        t = dc_transform_random_rotation(20.0f);
        dc_pipeline_add(p, &t);
        t = dc_transform_color_jitter(0.2f, 0.2f, 0.2f, 0.1f);
        dc_pipeline_add(p, &t);
        t = dc_transform_random_hflip();
        dc_pipeline_add(p, &t);
        t = dc_transform_random_vflip();
        dc_pipeline_add(p, &t);
        t = dc_transform_random_affine(0.0f);
        t.affine.translate[0] = 0.1f, t.affine.translate[1] = 0.1f;
        dc_pipeline_add(p, &t);
        t = dc_transform_random_grayscale();
        dc_pipeline_add(p, &t);
        t = dc_transform_gaussian_blur(3);
        dc_pipeline_add(p, &t);
    }
    if (normalize) {
        t = dc_transform_normalize(imagenet_mean, imagenet_std);
        dc_pipeline_add(p, &t);
    }
}

void dog_eval_pipeline(dc_pipeline *p, int size, int normalize)
{
    dc_transform t = dc_transform_resize_hw(size, size);

    dc_pipeline_init(p);
    dc_pipeline_add(p, &t);
    if (normalize) {
        t = dc_transform_normalize(imagenet_mean, imagenet_std);
        dc_pipeline_add(p, &t);
    }
}
