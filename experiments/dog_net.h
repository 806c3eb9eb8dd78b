/* dog_net.h - the course's tiny depthwise-separable CNN for dog emotions.
 *
 *   stem:   Conv2d(3,16,k3,s1,p1) -> BatchNorm2d(16) -> ReLU
 *   blocks: six depthwise-separable blocks 16->32->32->64->64->128->128 with strides
 *           2,1,2,1,2,1; each is a depthwise Conv2d(c,c,k3,s,p1,groups=c,bias=False),
 *           a pointwise Conv2d(c,c',k1,bias=False), BatchNorm2d(c'), ReLU
 *   head:   AdaptiveAvgPool2d(1) -> Linear(128,128) -> BatchNorm1d(128) -> ReLU ->
 *           Dropout(0.5) -> Linear(128, classes)
 * Parameter names follow the PyTorch module in tests/fixtures/make_dog_fixture.py, so a
 * checkpoint moves between the two. 53,940 trainable parameters for 4 classes. */
#ifndef DEEPC_EXPERIMENTS_DOG_NET_H
#define DEEPC_EXPERIMENTS_DOG_NET_H

#include "deepc/image.h"
#include "deepc/nn.h"

#define DOG_BLOCKS 6

typedef struct dog_block {
    dc_conv2d_layer depthwise;
    dc_conv2d_layer pointwise;
    dc_batchnorm_layer bn;
} dog_block;

typedef struct dog_net {
    dc_params *params;
    dc_conv2d_layer stem;
    dc_batchnorm_layer stem_bn;
    dog_block blocks[DOG_BLOCKS];
    dc_linear_layer fc1;
    dc_batchnorm_layer fc_bn;
    dc_linear_layer fc2;
    float dropout;
} dog_net;

/* Builds the network with PyTorch's default initialisation drawn from rng, in module
 * order. Returns 0, or -1 with dc_last_error set. Free with dog_net_free. */
int dog_net_init(dog_net *net, int classes, dc_rng *rng);
void dog_net_free(dog_net *net);

/* x [n,3,h,w] -> logits [n,classes]. training: batch statistics (running statistics
 * updated) and dropout drawn from rng; otherwise running statistics, no dropout. */
dc_tensor *dog_net_forward(dog_net *net, dc_tensor *x, int training, dc_rng *rng);

/* The course's training augmentation at size x size: RandomResizedCrop (scale 0.7-1),
 * RandomRotation(20), ColorJitter(0.2, 0.2, 0.2, 0.1), horizontal and vertical flips,
 * RandomAffine(0, translate 0.1), RandomGrayscale(0.1), GaussianBlur(3), then Normalize
 * with ImageNet's statistics. augment 0 gives Resize alone; normalize 0 leaves pixels in
 * [0,1] (for pictures). */
void dog_train_pipeline(dc_pipeline *p, int size, int augment, int normalize);

/* Resize to size x size, then Normalize unless normalize is 0. */
void dog_eval_pipeline(dc_pipeline *p, int size, int normalize);

#endif
