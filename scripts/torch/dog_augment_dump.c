/* dog_augment_dump - writes what deepc's dog-emotion augmentation makes of some photos,
 * for scripts/torch/dog_augment_compare.py to set beside torchvision's.
 *
 *   dog_augment_dump STEP LIST OUT REPS SEED
 *
 * Each image path in the file LIST (one a line) is passed REPS times through a pipeline
 * and every result, a [3,64,64] float image in [0,1], is appended to OUT as raw native
 * floats. STEP chooses the pipeline: "base" is Resize(64, 64) alone, "full" the whole
 * training augmentation (dog_train_pipeline without Normalize), and a number k is step k
 * of that augmentation alone, after Resize(64, 64) (step 0, RandomResizedCrop, without
 * it, as it sets the size itself). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/image.h"
#include "dog_net.h"

#define SIZE 64

static int usage(void)
{
    fprintf(stderr, "usage: dog_augment_dump base|full|STEP LIST OUT REPS SEED\n");
    return 2;
}

/* The pipeline STEP names into p; -1 if STEP is not one. */
static int choose(const char *step, dc_pipeline *p)
{
    dc_pipeline full;
    char *end;
    long k;

    dog_train_pipeline(&full, SIZE, 1, 0);
    if (!strcmp(step, "full")) {
        *p = full;
        return 0;
    }
    dog_eval_pipeline(p, SIZE, 0);
    if (!strcmp(step, "base"))
        return 0;
    k = strtol(step, &end, 10);
    if (*end || end == step || k < 0 || k >= full.n)
        return -1;
    if (k == 0)
        dc_pipeline_init(p);
    return dc_pipeline_add(p, &full.t[k]) == DC_OK ? 0 : -1;
}

/* Appends REPS passes of one image through p to out. */
static int dump_image(const char *path, const dc_pipeline *p, int reps, dc_rng *rng,
                      FILE *out)
{
    dc_image src, img;
    dc_image_ws ws;
    int rc = 0;

    dc_image_init(&src);
    dc_image_init(&img);
    dc_image_ws_init(&ws);
    if (dc_image_load(path, &src) != DC_OK)
        rc = -1;
    for (int r = 0; r < reps && rc == 0; r++) {
        size_t n = (size_t)src.c * src.h * src.w;
        if (dc_image_reserve(&img, src.c, src.h, src.w) != DC_OK)
            rc = -1;
        else if (memcpy(img.data, src.data, n * sizeof *img.data),
                 dc_pipeline_apply(p, &img, &ws, rng) != DC_OK)
            rc = -1;
        else if (fwrite(img.data, sizeof *img.data, 3 * SIZE * SIZE, out) != 3 * SIZE * SIZE)
            rc = -1;
    }
    dc_image_deinit(&src);
    dc_image_deinit(&img);
    dc_image_ws_deinit(&ws);
    return rc;
}

int main(int argc, char **argv)
{
    char path[4096];
    dc_pipeline p;
    dc_rng rng;
    FILE *list, *out;
    int reps, rc = 0;

    if (argc != 6 || choose(argv[1], &p) != 0 || (reps = atoi(argv[4])) < 1)
        return usage();
    if (!(list = fopen(argv[2], "r")) || !(out = fopen(argv[3], "wb"))) {
        perror(list ? argv[3] : argv[2]);
        return 1;
    }
    dc_rng_seed(&rng, strtoull(argv[5], NULL, 10));
    while (rc == 0 && fgets(path, sizeof path, list)) {
        path[strcspn(path, "\n")] = '\0';
        if (path[0] && dump_image(path, &p, reps, &rng, out) != 0) {
            fprintf(stderr, "dog_augment_dump: %s: %s\n", path, dc_last_error());
            rc = 1;
        }
    }
    fclose(list);
    if (fclose(out) != 0)
        rc = 1;
    return rc;
}
