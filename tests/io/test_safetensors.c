/* Tests of src/io/safetensors.c and src/io/atomic.c: round trips, the exact
 * header layout, a file written by the reference layout
 * (tests/fixtures/tiny.safetensors, made by make_tiny_safetensors.py beside
 * it), every kind of corrupt file, and atomic writes that fail (missing
 * directory, rename onto a directory, a full disk). Each test works in its own
 * temporary directory, as Criterion runs tests in parallel processes. */
#define _XOPEN_SOURCE 700
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deepc/io.h"
#include "deepc/nn.h"

#define TESTUTIL_TAG "io"
#include "testutil.h"

/* ---- helpers ---- */

static void put_u64le(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

/* A file made of a given header length field, header text and `data_len` data
 * bytes (float i at byte 4i holds the value i, as far as the data goes). */
static void write_raw(const char *path, uint64_t len_field, const char *hdr,
                      size_t hlen, size_t data_len)
{
    size_t n = 8 + hlen + data_len;
    unsigned char *b = calloc(1, n);

    put_u64le(b, len_field);
    memcpy(b + 8, hdr, hlen);
    for (size_t i = 0; i + 4 <= data_len; i += 4) {
        float v = (float)(i / 4);

        memcpy(b + 8 + hlen + i, &v, 4);
    }
    write_file(path, b, n);
    free(b);
}

static void write_st(const char *path, const char *hdr, size_t data_len)
{
    write_raw(path, strlen(hdr), hdr, strlen(hdr), data_len);
}

/* Loading `path` must fail with a message that starts with the path and
 * contains `what`; `label` names the case in a failure report. */
static void expect_load_error(const char *path, const char *what,
                              const char *label)
{
    dc_safetensors *st;
    const char *msg;

    dc_clear_error();
    st = dc_safetensors_load(path);
    msg = dc_last_error();
    cr_expect_null(st, "%s: loaded a corrupt file", label);
    dc_safetensors_free(st);
    cr_expect_eq(strncmp(msg, path, strlen(path)), 0,
                 "%s: message does not start with the path: %s", label, msg);
    cr_expect_not_null(strstr(msg, what), "%s: message lacks \"%s\": %s", label,
                       what, msg);
}

static dc_tensor *filled(int ndim, const int *shape, dc_rng *rng)
{
    dc_tensor *t = dc_tensor_new(ndim, shape);

    cr_assert_not_null(t);
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = dc_rng_normal(rng);
    return t;
}

/* ---- round trips and layout ---- */

TestSuite(safetensors, .init = make_tmp, .fini = remove_tmp);

Test(safetensors, round_trip_ranks_0_to_5_with_metadata)
{
    int s1[] = {7}, s2[] = {3, 4}, s4[] = {2, 3, 2, 2}, s5[] = {1, 2, 1, 3, 2};
    dc_rng rng;
    dc_rng_seed(&rng, 11);
    dc_named_tensor ts[] = {
        {"layer.2.weight", filled(2, s2, &rng)}, {"bias", filled(1, s1, &rng)},
        {"scalar", filled(0, NULL, &rng)},       {"conv", filled(4, s4, &rng)},
        {"five", filled(5, s5, &rng)},
    };
    const char *meta[] = {"format", "pt", "note", "caf\xc3\xa9 \"quoted\"\n"};
    const char *path = in_tmp("model.safetensors");
    dc_safetensors *st;

    cr_assert_eq(dc_safetensors_save(path, ts, 5, meta, 2), DC_OK, "%s",
                 dc_last_error());
    cr_assert_eq(tmp_entries(), 1, "a temporary file was left behind");
    st = dc_safetensors_load(path);
    cr_assert_not_null(st, "%s", dc_last_error());

    cr_assert_eq(dc_safetensors_count(st), 5);
    for (int i = 0; i < 5; i++) {
        dc_tensor *t = dc_safetensors_tensor(st, i);

        cr_assert_str_eq(dc_safetensors_name(st, i), ts[i].name);
        cr_assert(dc_shape_equal(t, ts[i].tensor), "shape of %s", ts[i].name);
        cr_assert_eq(t->size, ts[i].tensor->size);
        cr_assert_eq(memcmp(t->data, ts[i].tensor->data, t->size * 4), 0, "%s",
                     ts[i].name);
        cr_assert_eq(dc_safetensors_find(st, ts[i].name), t);
    }
    cr_assert_eq(dc_safetensors_tensor(st, 0)->ndim, 2);
    cr_assert_eq(dc_safetensors_tensor(st, 2)->ndim, 0);
    cr_assert_eq(dc_safetensors_tensor(st, 2)->size, 1);
    cr_assert_str_eq(dc_safetensors_meta(st, "format"), "pt");
    cr_assert_str_eq(dc_safetensors_meta(st, "note"), meta[3]);
    cr_assert_null(dc_safetensors_meta(st, "missing"));
    cr_assert_null(dc_safetensors_find(st, "missing"));
    cr_assert_null(dc_safetensors_name(st, 5));
    cr_assert_null(dc_safetensors_tensor(st, -1));

    dc_safetensors_free(st);
    for (int i = 0; i < 5; i++)
        dc_tensor_free(ts[i].tensor);
}

Test(safetensors, header_layout_is_the_reference_one)
{
    dc_tensor *w = dc_tensor_new2(2, 3), *a = dc_tensor_new1(4),
              *s = dc_tensor_new(0, NULL);
    dc_named_tensor ts[] = {{"z.w", w}, {"a", a}, {"s", s}};
    const char *meta[] = {"epoch", "3"};
    const char *expect =
        "{\"__metadata__\":{\"epoch\":\"3\"},"
        "\"z.w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]},"
        "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[40,44]}}";
    const char *path = in_tmp("layout.safetensors");
    size_t size, n, len = strlen(expect), padded = (len + 7) / 8 * 8;
    unsigned char *b;

    for (int i = 0; i < 6; i++)
        w->data[i] = (float)i - 2.5f;
    for (int i = 0; i < 4; i++)
        a->data[i] = 100.0f + (float)i;
    s->data[0] = -7.0f;
    cr_assert_eq(dc_safetensors_save(path, ts, 3, meta, 1), DC_OK, "%s",
                 dc_last_error());
    b = read_file(path, &size);

    /* Length field, compact JSON in the given order, spaces up to a multiple
     * of 8. */
    n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | b[i];
    cr_assert_eq(n, padded);
    cr_assert_eq(size, 8 + padded + 44);
    cr_assert_eq(memcmp(b + 8, expect, len), 0, "header: %.*s", (int)n,
                 (char *)b + 8);
    for (size_t i = len; i < padded; i++)
        cr_assert_eq(b[8 + i], ' ');

    /* Parsed back: offsets contiguous from 0, ending at the end of the file. */
    cJSON *root = cJSON_ParseWithLength((const char *)b + 8, n);
    const cJSON *e;
    double next = 0;
    int k = 0;

    cr_assert_not_null(root);
    cJSON_ArrayForEach(e, root) {
        if (strcmp(e->string, "__metadata__") == 0)
            continue;
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");

        cr_assert_str_eq(e->string, ts[k++].name);
        cr_assert_eq(cJSON_GetArrayItem(off, 0)->valuedouble, next);
        next = cJSON_GetArrayItem(off, 1)->valuedouble;
    }
    cr_assert_eq(k, 3);
    cr_assert_eq((size_t)next, size - 8 - padded);
    cJSON_Delete(root);

    /* Data: little-endian float32, tensors back to back. */
    const unsigned char *d = b + 8 + padded;
    float v;
    memcpy(&v, d + 4, 4);
    cr_assert_eq(v, -1.5f);
    cr_assert_eq(d[24 + 3], 0x42); /* 100.0f is 0x42c80000 */
    cr_assert_eq(d[24 + 2], 0xc8);
    memcpy(&v, d + 40, 4);
    cr_assert_eq(v, -7.0f);

    free(b);
    dc_tensor_free(w);
    dc_tensor_free(a);
    dc_tensor_free(s);
}

static const char *fixture_path(void)
{
    return DC_SOURCE_DIR "/tests/fixtures/tiny.safetensors";
}

Test(safetensors, loads_file_from_reference_layout)
{
    dc_safetensors *st = dc_safetensors_load(fixture_path());
    const char *names[] = {"bias", "conv.weight", "fc.weight", "scale"};
    float bias[] = {0.5f, -1.25f, 3.0f};
    float fc[] = {0.125f, -0.25f, 0.5f, -1.0f, 2.0f, -0.0f};
    dc_tensor *t;

    cr_assert_not_null(st, "%s", dc_last_error());
    cr_assert_eq(dc_safetensors_count(st), 4);
    for (int i = 0; i < 4; i++)
        cr_assert_str_eq(dc_safetensors_name(st, i), names[i]);
    cr_assert_str_eq(dc_safetensors_meta(st, "format"), "pt");

    t = dc_safetensors_find(st, "bias");
    cr_assert_eq(t->ndim, 1);
    cr_assert_eq(t->shape[0], 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(t->data[i], bias[i]);

    t = dc_safetensors_find(st, "conv.weight");
    cr_assert_eq(t->ndim, 4);
    cr_assert(t->shape[0] == 2 && t->shape[1] == 1 && t->shape[2] == 2 &&
              t->shape[3] == 2);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(t->data[i], (float)i * 0.5f - 2.0f, "conv.weight[%d]", i);

    t = dc_safetensors_find(st, "fc.weight");
    cr_assert(t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
    cr_assert_eq(memcmp(t->data, fc, sizeof fc), 0); /* also the sign of -0.0 */

    t = dc_safetensors_find(st, "scale");
    cr_assert_eq(t->ndim, 0);
    cr_assert_eq(t->data[0], 1024.0f);
    dc_safetensors_free(st);
}

/* Saving what was loaded, in the same order with the same metadata, must give
 * the reference writer's bytes exactly. */
Test(safetensors, resave_is_byte_identical_to_reference)
{
    dc_safetensors *st = dc_safetensors_load(fixture_path());
    const char *meta[] = {"format", "pt"};
    const char *path = in_tmp("resaved.safetensors");
    dc_named_tensor ts[4];
    unsigned char *want, *got;
    size_t nwant, ngot;

    cr_assert_not_null(st, "%s", dc_last_error());
    for (int i = 0; i < 4; i++)
        ts[i] = (dc_named_tensor){dc_safetensors_name(st, i),
                                  dc_safetensors_tensor(st, i)};
    cr_assert_eq(dc_safetensors_save(path, ts, 4, meta, 1), DC_OK, "%s",
                 dc_last_error());
    want = read_file(fixture_path(), &nwant);
    got = read_file(path, &ngot);
    cr_assert_eq(ngot, nwant);
    cr_assert_eq(memcmp(got, want, nwant), 0);
    free(want);
    free(got);
    dc_safetensors_free(st);
}

/* Offsets are honoured as written: here the data order is the reverse of the
 * header order. */
Test(safetensors, offsets_honoured_out_of_order)
{
    const char *path = in_tmp("order.safetensors");
    dc_safetensors *st;
    dc_tensor *a, *b;

    write_st(
        path,
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}",
        16);
    st = dc_safetensors_load(path);
    cr_assert_not_null(st, "%s", dc_last_error());
    a = dc_safetensors_find(st, "a");
    b = dc_safetensors_find(st, "b");
    cr_assert_eq(a->data[0], 2.0f);
    cr_assert_eq(a->data[1], 3.0f);
    cr_assert_eq(b->data[0], 0.0f);
    cr_assert_eq(b->data[1], 1.0f);
    cr_assert_str_eq(dc_safetensors_name(st, 0), "a");
    dc_safetensors_free(st);
}

Test(safetensors, copy_into_checks_name_and_shape)
{
    dc_tensor *w = dc_tensor_new2(2, 3), *good = dc_tensor_new2(2, 3);
    dc_tensor *bad = dc_tensor_new2(3, 2);
    dc_named_tensor ts[] = {{"fc.weight", w}};
    const char *path = in_tmp("copy.safetensors");
    dc_safetensors *st;

    for (int i = 0; i < 6; i++)
        w->data[i] = (float)(i * i);
    cr_assert_eq(dc_safetensors_save(path, ts, 1, NULL, 0), DC_OK, "%s",
                 dc_last_error());
    st = dc_safetensors_load(path);
    cr_assert_not_null(st, "%s", dc_last_error());

    cr_assert_eq(dc_safetensors_copy_into(st, "fc.weight", good), DC_OK);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(good->data[i], (float)(i * i));

    cr_assert_eq(dc_safetensors_copy_into(st, "fc.weight", bad), DC_ERR_SHAPE);
    cr_assert_not_null(strstr(dc_last_error(), path));
    cr_assert_not_null(
        strstr(dc_last_error(), "\"fc.weight\" has shape [2,3]"));
    cr_assert_not_null(strstr(dc_last_error(), "expects [3,2]"), "%s",
                       dc_last_error());
    cr_assert_eq(bad->data[0], 0.0f);

    cr_assert_eq(dc_safetensors_copy_into(st, "fc.bias", good), DC_ERR_FORMAT);
    cr_assert_not_null(strstr(dc_last_error(), "no tensor called \"fc.bias\""));
    dc_safetensors_free(st);
    dc_tensor_free(w);
    dc_tensor_free(good);
    dc_tensor_free(bad);
}

/* A checkpoint of right shapes but a NaN weight or a negative batch-norm variance would
 * load and then score garbage: dc_params_load refuses it, naming the file and tensor. */
Test(safetensors, params_load_refuses_non_finite_values_and_negative_variances)
{
    static const int two[1] = {2};
    const char *path = in_tmp("bad.safetensors");
    dc_params *saved = dc_params_new(), *loaded = dc_params_new();
    dc_tensor *w = dc_params_add(saved, "fc.weight", 1, two);
    dc_tensor *var = dc_params_add_buffer(saved, "bn.running_var", 1, two);
    const float bad_w[] = {NAN, INFINITY, 1.0f, 1.0f}, bad_var[] = {1.0f, 1.0f, -0.5f, 0.0f};
    const char *want[] = {"fc.weight", "fc.weight", "bn.running_var", NULL};

    dc_params_add(loaded, "fc.weight", 1, two);
    dc_params_add_buffer(loaded, "bn.running_var", 1, two);
    for (int c = 0; c < 4; c++) {
        w->data[0] = bad_w[c], w->data[1] = 0.5f;
        var->data[0] = 0.25f, var->data[1] = bad_var[c];
        cr_assert_eq(dc_params_save(saved, path, NULL, 0), DC_OK, "%s", dc_last_error());
        dc_status s = dc_params_load(loaded, path);
        if (!want[c]) {
            cr_assert_eq(s, DC_OK, "a zero variance was refused: %s", dc_last_error());
            continue;
        }
        cr_assert_eq(s, DC_ERR_FORMAT, "case %d loaded", c);
        cr_assert_not_null(strstr(dc_last_error(), path), "%s", dc_last_error());
        cr_assert_not_null(strstr(dc_last_error(), want[c]), "%s", dc_last_error());
    }
    dc_params_free(saved);
    dc_params_free(loaded);
}

Test(safetensors, save_refuses_bad_arguments)
{
    dc_tensor *t = dc_tensor_new1(2);
    const char *path = in_tmp("bad.safetensors");
    dc_named_tensor dup[] = {{"w", t}, {"b", t}, {"w", t}};
    dc_named_tensor empty[] = {{"", t}};
    dc_named_tensor reserved[] = {{"__metadata__", t}};
    dc_named_tensor null_tensor[] = {{"w", NULL}};
    const char *meta_dup[] = {"k", "1", "k", "2"};
    const char *meta_null[] = {"k", NULL};

    cr_assert_eq(dc_safetensors_save(path, dup, 3, NULL, 0), DC_ERR_ARG);
    cr_assert_not_null(strstr(dc_last_error(), "duplicate tensor name \"w\""));
    cr_assert_eq(dc_safetensors_save(path, empty, 1, NULL, 0), DC_ERR_ARG);
    cr_assert_not_null(strstr(dc_last_error(), "non-empty name"));
    cr_assert_eq(dc_safetensors_save(path, reserved, 1, NULL, 0), DC_ERR_ARG);
    cr_assert_eq(dc_safetensors_save(path, null_tensor, 1, NULL, 0),
                 DC_ERR_ARG);
    cr_assert_not_null(strstr(dc_last_error(), "\"w\" is NULL"));
    cr_assert_eq(dc_safetensors_save(path, dup, 1, meta_dup, 2), DC_ERR_ARG);
    cr_assert_not_null(strstr(dc_last_error(), "duplicate metadata key \"k\""));
    cr_assert_eq(dc_safetensors_save(path, dup, 1, meta_null, 1), DC_ERR_ARG);
    cr_assert_eq(dc_safetensors_save(path, dup, -1, NULL, 0), DC_ERR_ARG);
    cr_assert_eq(dc_safetensors_save(path, dup, 1, NULL, 1), DC_ERR_ARG);
    cr_assert_not_null(strstr(dc_last_error(), path));
    cr_assert_eq(tmp_entries(), 0, "a refused save left a file");
    dc_tensor_free(t);
}

/* ---- files that cannot be read or are corrupt ---- */

Test(safetensors, missing_file_and_directory)
{
    const char *path = in_tmp("nothing_here.safetensors");

    expect_load_error(path, "No such file", "missing file");
    expect_load_error(tmp, "not a regular file", "directory");
}

Test(safetensors, file_shorter_than_length_field)
{
    const char *path = in_tmp("short.safetensors");

    write_file(path, "", 0);
    expect_load_error(path, "shorter than the 8-byte", "empty file");
    write_file(path, "\x10\0\0\0\0", 5);
    expect_load_error(path, "file is 5 bytes", "5-byte file");
}

Test(safetensors, header_length_beyond_file_or_absurd)
{
    const char *path = in_tmp("len.safetensors");
    const char *hdr = "{}      ";

    write_raw(path, 9, hdr, 8, 0);
    expect_load_error(path, "header length 9 exceeds the 8 bytes",
                      "one byte too long");
    write_raw(path, 1ull << 40, hdr, 8, 0);
    expect_load_error(path, "exceeds the limit", "2^40");
    write_raw(path, UINT64_MAX, hdr, 8, 0);
    expect_load_error(path, "exceeds the limit", "2^64-1");
    write_raw(path, 100000001, hdr, 8, 0);
    expect_load_error(path, "exceeds the limit", "100 MB + 1");

    /* An empty object with spaces is a valid file with no tensors. */
    write_raw(path, 8, hdr, 8, 0);
    dc_safetensors *st = dc_safetensors_load(path);
    cr_assert_not_null(st, "%s", dc_last_error());
    cr_assert_eq(dc_safetensors_count(st), 0);
    dc_safetensors_free(st);
}

typedef struct bad_header {
    const char *label;
    const char *header;
    size_t data_len;
    const char *expect;
} bad_header;

#define ENTRY(dtype, shape, offsets)                                           \
    "{\"dtype\":" dtype ",\"shape\":" shape ",\"data_offsets\":" offsets "}"

static const bad_header bad_headers[] = {
    {"empty header", "", 0, "not valid JSON"},
    {"not JSON", "{\"w\":", 0, "not valid JSON"},
    {"garbage", "hello world", 0, "not valid JSON"},
    {"array", "[1,2]", 0, "not a JSON object"},
    {"string", "\"w\"", 0, "not a JSON object"},
    {"trailing data", "{} x", 0, "data after its JSON object"},
    {"entry not object", "{\"w\":3}", 0,
     "tensor \"w\": entry is not a JSON object"},
    {"no dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     "\"dtype\" missing or not a string"},
    {"dtype number", "{\"w\":" ENTRY("5", "[1]", "[0,4]") "}", 4,
     "\"dtype\" missing"},
    {"no shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
     "\"shape\" missing or not an array"},
    {"shape string", "{\"w\":" ENTRY("\"F32\"", "\"1\"", "[0,4]") "}", 4,
     "\"shape\" missing or not an array"},
    {"no offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4,
     "\"data_offsets\" missing"},
    {"3 offsets", "{\"w\":" ENTRY("\"F32\"", "[1]", "[0,4,8]") "}", 8,
     "\"data_offsets\" missing or not an array of 2"},
    {"offsets object", "{\"w\":" ENTRY("\"F32\"", "[1]", "{}") "}", 4,
     "\"data_offsets\" missing"},
    {"offset string", "{\"w\":" ENTRY("\"F32\"", "[1]", "[\"0\",4]") "}", 4,
     "data_offsets must be non-negative integers"},
    {"negative offset", "{\"w\":" ENTRY("\"F32\"", "[1]", "[-4,0]") "}", 4,
     "data_offsets must be non-negative integers"},
    {"fractional offset", "{\"w\":" ENTRY("\"F32\"", "[1]", "[0.5,4.5]") "}", 8,
     "data_offsets must be non-negative integers"},
    {"huge offset", "{\"w\":" ENTRY("\"F32\"", "[1]", "[1e300,1e300]") "}", 4,
     "data_offsets must be non-negative integers"},
    {"negative dim", "{\"w\":" ENTRY("\"F32\"", "[2,-1]", "[0,4]") "}", 4,
     "shape entry 1 is out of range or not an integer"},
    {"fractional dim", "{\"w\":" ENTRY("\"F32\"", "[2.5]", "[0,10]") "}", 12,
     "shape entry 0 is out of range or not an integer"},
    {"string dim", "{\"w\":" ENTRY("\"F32\"", "[\"2\"]", "[0,8]") "}", 8,
     "shape entry 0 is not a number"},
    {"dim above int", "{\"w\":" ENTRY("\"F32\"", "[4294967296]", "[0,4]") "}",
     4, "shape entry 0 is out of range"},
    {"zero dim", "{\"w\":" ENTRY("\"F32\"", "[3,0]", "[0,0]") "}", 0,
     "empty tensors are not supported"},
    {"six dims", "{\"w\":" ENTRY("\"F32\"", "[1,1,1,1,1,1]", "[0,4]") "}", 4,
     "shape has 6 dimensions, at most 5"},
    {"size mismatch", "{\"w\":" ENTRY("\"F32\"", "[2,3]", "[0,20]") "}", 24,
     "shape [2,3] needs 24 bytes but data_offsets [0,20] span 20"},
    {"product overflow",
     "{\"w\":" ENTRY("\"F32\"", "[65536,65536,65536,65536,65536]", "[0,4]") "}",
     4, "needs"},
    {"past the data", "{\"w\":" ENTRY("\"F32\"", "[2]", "[0,8]") "}", 4,
     "run past the end of the 4 bytes of data"},
    {"end before begin", "{\"w\":" ENTRY("\"F32\"", "[1]", "[8,4]") "}", 8,
     "end before they begin"},
    {"overlap",
     "{\"a\":" ENTRY("\"F32\"", "[2]", "[0,8]")
     ",\"b\":" ENTRY("\"F32\"", "[2]", "[4,12]") "}",
     12, "\"a\" [0,8] and \"b\" [4,12] overlap"},
    {"same offsets",
     "{\"a\":" ENTRY("\"F32\"", "[1]", "[0,4]")
     ",\"b\":" ENTRY("\"F32\"", "[1]", "[0,4]") "}",
     4, "overlap"},
    {"bytes after the last tensor", "{\"w\":" ENTRY("\"F32\"", "[1]", "[0,4]") "}", 8,
     "4 bytes after the last tensor's data (byte 4 of the data section)"},
    {"gap before the first tensor", "{\"w\":" ENTRY("\"F32\"", "[1]", "[4,8]") "}", 8,
     "data bytes [0,4] before tensor \"w\" belong to no tensor"},
    {"gap between tensors",
     "{\"a\":" ENTRY("\"F32\"", "[1]", "[0,4]")
     ",\"b\":" ENTRY("\"F32\"", "[1]", "[8,12]") "}",
     12, "data bytes [4,8] before tensor \"b\""},
    {"data but no tensors", "{}", 4, "4 bytes after the last tensor's data"},
    {"F16", "{\"w\":" ENTRY("\"F16\"", "[2]", "[0,4]") "}", 4,
     "tensor \"w\": dtype F16 not supported, expected F32"},
    {"lower-case f32", "{\"w\":" ENTRY("\"f32\"", "[1]", "[0,4]") "}", 4,
     "dtype f32 not supported"},
    {"duplicate name",
     "{\"w\":" ENTRY("\"F32\"", "[1]", "[0,4]")
     ",\"w\":" ENTRY("\"F32\"", "[1]", "[4,8]") "}",
     8, "duplicate tensor name \"w\""},
    {"metadata number", "{\"__metadata__\":3}", 0,
     "\"__metadata__\" is not a JSON object"},
    {"metadata value", "{\"__metadata__\":{\"k\":1}}", 0,
     "metadata \"k\" is not a string"},
    {"metadata dup key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
     "duplicate metadata key \"k\""},
    {"two metadata", "{\"__metadata__\":{},\"__metadata__\":{}}", 0,
     "duplicate \"__metadata__\""},
};

Test(safetensors, corrupt_headers_are_refused_with_a_reason)
{
    const char *path = in_tmp("corrupt.safetensors");
    size_t n = sizeof bad_headers / sizeof bad_headers[0];

    for (size_t i = 0; i < n; i++) {
        write_st(path, bad_headers[i].header, bad_headers[i].data_len);
        expect_load_error(path, bad_headers[i].expect, bad_headers[i].label);
    }
}

/* A NUL inside a tensor's name would end the name early for cJSON, so "w\0x" would load
 * as "w"; the header is refused instead. */
Test(safetensors, nul_byte_in_header_is_refused)
{
    static const char hdr[] = "{\"w\0x\":" ENTRY("\"F32\"", "[1]", "[0,4]") "}";
    const char *path = in_tmp("nul.safetensors");

    write_raw(path, sizeof hdr - 1, hdr, sizeof hdr - 1, 4);
    expect_load_error(path, "NUL byte at byte 3", "NUL in a name");
}

/* cJSON's nesting limit keeps a deeply nested header from exhausting the stack.
 */
Test(safetensors, deeply_nested_header_is_refused)
{
    const char *path = in_tmp("deep.safetensors");
    size_t depth = 100000, len = 6 + 2 * depth + 1;
    char *h = malloc(len + 1);

    memcpy(h, "{\"w\":", 5);
    memset(h + 5, '[', depth);
    memset(h + 5 + depth, ']', depth);
    h[5 + 2 * depth] = '}';
    h[6 + 2 * depth] = '\0';
    write_st(path, h, 0);
    expect_load_error(path, "not valid JSON", "nested 100000 deep");
    free(h);
}

/* Every proper prefix of a valid file is refused: no partial checkpoint loads.
 */
Test(safetensors, every_truncation_is_refused)
{
    dc_tensor *a = dc_tensor_new2(2, 2), *b = dc_tensor_new1(3);
    dc_named_tensor ts[] = {{"a", a}, {"b", b}};
    const char *path = in_tmp("full.safetensors"),
               *cut = in_tmp("cut.safetensors");
    unsigned char *bytes;
    size_t size;

    cr_assert_eq(dc_safetensors_save(path, ts, 2, NULL, 0), DC_OK);
    bytes = read_file(path, &size);
    for (size_t len = 0; len < size; len++) {
        char label[48];

        snprintf(label, sizeof label, "prefix of %zu bytes", len);
        write_file(cut, bytes, len);
        expect_load_error(cut, "", label);
    }
    free(bytes);
    dc_tensor_free(a);
    dc_tensor_free(b);
}

/* Random bytes written over the header: loading either succeeds or fails with a
 * message naming the file; never a crash (this test is most useful under ASan).
 */
Test(safetensors, random_header_damage_never_crashes)
{
    dc_tensor *a = dc_tensor_new2(3, 2), *b = dc_tensor_new1(5);
    dc_named_tensor ts[] = {{"a", a}, {"bb", b}};
    const char *meta[] = {"format", "pt"};
    const char *path = in_tmp("ok.safetensors"),
               *bad = in_tmp("damaged.safetensors");
    unsigned char *orig, *b2;
    size_t size, hdr_end;
    int refused = 0;
    dc_rng rng;

    dc_rng_seed(&rng, 5);
    cr_assert_eq(dc_safetensors_save(path, ts, 2, meta, 1), DC_OK);
    orig = read_file(path, &size);
    b2 = malloc(size);
    hdr_end = 8 + (size_t)orig[0] + ((size_t)orig[1] << 8);
    for (int it = 0; it < 400; it++) {
        memcpy(b2, orig, size);
        for (int k = 0; k < 1 + it % 3; k++)
            b2[dc_rng_below(&rng, (uint32_t)hdr_end)] =
                (unsigned char)dc_rng_u32(&rng);
        write_file(bad, b2, size);

        dc_safetensors *st = dc_safetensors_load(bad);
        if (st) {
            dc_safetensors_free(st);
        } else {
            refused++;
            cr_assert_eq(strncmp(dc_last_error(), bad, strlen(bad)), 0, "%s",
                         dc_last_error());
        }
    }
    cr_assert_gt(refused, 100, "most random damage should be detected, %d were",
                 refused);
    free(orig);
    free(b2);
    dc_tensor_free(a);
    dc_tensor_free(b);
}

/* ---- atomic writes ---- */

TestSuite(atomic, .init = make_tmp, .fini = remove_tmp);

Test(atomic, write_creates_and_replaces_without_leftovers)
{
    const char *path = in_tmp("out.txt");
    unsigned char *b;
    size_t n;

    cr_assert_eq(dc_write_file_atomic(path, "first version", 13), DC_OK);
    cr_assert_eq(dc_write_file_atomic(path, "second", 6), DC_OK);
    b = read_file(path, &n);
    cr_assert_eq(n, 6);
    cr_assert_eq(memcmp(b, "second", 6), 0);
    cr_assert_eq(tmp_entries(), 1);
    free(b);
    cr_assert_eq(dc_write_file_atomic(path, NULL, 0), DC_OK);
    b = read_file(path, &n);
    cr_assert_eq(n, 0);
    free(b);
}

Test(atomic, temporary_name_and_abort_keep_the_old_file)
{
    const char *path = in_tmp("keep.txt");
    char expect[600];
    dc_atomic_file af;
    unsigned char *b;
    size_t n;

    cr_assert_eq(dc_write_file_atomic(path, "old", 3), DC_OK);
    cr_assert_eq(dc_atomic_open(&af, path), DC_OK);
    snprintf(expect, sizeof expect, "%s.tmp.%ld", path, (long)getpid());
    cr_assert_str_eq(af.tmp, expect);
    cr_assert_eq(access(af.tmp, F_OK), 0);
    fputs("new contents never committed", af.fp);

    b = read_file(path,
                   &n); /* readers see the old file while writing goes on */
    cr_assert(n == 3 && memcmp(b, "old", 3) == 0);
    free(b);

    dc_atomic_abort(&af);
    cr_assert_null(af.fp);
    cr_assert_neq(access(expect, F_OK), 0);
    dc_atomic_abort(&af); /* a second abort is harmless */
    b = read_file(path, &n);
    cr_assert(n == 3 && memcmp(b, "old", 3) == 0);
    free(b);
    cr_assert_eq(tmp_entries(), 1);
}

/* Renaming into place would turn a FIFO or a device into a plain file; such a target is
 * refused before anything is written, and stays what it was. */
Test(atomic, non_regular_target_is_refused_and_kept)
{
    const char *fifo = in_tmp("pipe");
    struct stat sb;

    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cr_assert_eq(dc_write_file_atomic(fifo, "x", 1), DC_ERR_IO);
    cr_assert(strstr(dc_last_error(), "pipe: not a regular file (a FIFO)"), "%s",
              dc_last_error());
    cr_assert(stat(fifo, &sb) == 0 && S_ISFIFO(sb.st_mode), "the FIFO was replaced");

    cr_assert_eq(dc_write_file_atomic("/dev/null", "x", 1), DC_ERR_IO);
    cr_assert(strstr(dc_last_error(), "/dev/null: not a regular file (a character device)"),
              "%s", dc_last_error());
    cr_assert(stat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode));

    cr_assert_eq(dc_write_file_atomic(in_tmp(""), "x", 1), DC_ERR_IO);
    cr_assert(strstr(dc_last_error(), "not a regular file (a directory)"), "%s",
              dc_last_error());
    cr_assert_eq(tmp_entries(), 1, "a temporary file was left behind");
}

Test(atomic, missing_directory_is_an_io_error)
{
    const char *path = in_tmp("no/such/dir/file.bin");

    cr_assert_eq(dc_write_file_atomic(path, "x", 1), DC_ERR_IO);
    cr_assert_eq(strncmp(dc_last_error(), path, strlen(path)), 0, "%s",
                 dc_last_error());
    cr_assert_not_null(strstr(dc_last_error(), "No such file"), "%s",
                       dc_last_error());
}

/* A directory where the file should go is refused before a temporary file exists. */
Test(atomic, directory_target_is_refused_without_leftovers)
{
    const char *dir = in_tmp("target"), *inner = in_tmp("target/x");
    dc_tensor *t = dc_tensor_new1(2);
    dc_named_tensor ts[] = {{"t", t}};

    cr_assert_eq(mkdir(dir, 0700), 0);
    write_file(inner, "x", 1);
    cr_assert_eq(dc_write_file_atomic(dir, "data", 4), DC_ERR_IO);
    cr_assert_not_null(strstr(dc_last_error(), "not a regular file (a directory)"), "%s",
                       dc_last_error());
    cr_assert_eq(strncmp(dc_last_error(), dir, strlen(dir)), 0);
    cr_assert_eq(tmp_entries(), 1, "a temporary file was left behind");
    cr_assert_eq(dc_safetensors_save(dir, ts, 1, NULL, 0), DC_ERR_IO);
    cr_assert_eq(tmp_entries(), 1);
    remove(inner);
    rmdir(dir);
    dc_tensor_free(t);
}

/* A file size limit makes writes fail with EFBIG the way a full disk fails with
 * ENOSPC: once in fwrite itself (a large write) and once only when the stdio
 * buffer is flushed at commit (a small one). */
Test(atomic, write_error_surfaces_as_io_error)
{
    struct rlimit old, lim;
    const char *path = in_tmp("big.bin"), *ck = in_tmp("big.safetensors");
    size_t n = 1 << 20;
    char *data = calloc(1, n);
    dc_tensor *t = dc_tensor_new1(100000);
    dc_named_tensor ts[] = {{"t", t}};
    dc_atomic_file af;

    signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 100;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);

    dc_status big = dc_write_file_atomic(path, data, n);
    cr_assert_eq(dc_atomic_open(&af, path), DC_OK);
    fwrite(data, 1, 1000, af.fp);
    dc_status small = dc_atomic_commit(&af);
    dc_status save = dc_safetensors_save(ck, ts, 1, NULL, 0);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", dc_last_error());

    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    cr_assert_eq(big, DC_ERR_IO);
    cr_assert_eq(small, DC_ERR_IO);
    cr_assert_eq(save, DC_ERR_IO);
    cr_assert_eq(strncmp(msg, ck, strlen(ck)), 0, "%s", msg);
    cr_assert_not_null(strstr(msg, "File too large"), "%s", msg);
    cr_assert_eq(tmp_entries(), 0, "a failed write left a file");
    free(data);
    dc_tensor_free(t);
}

Test(atomic, bad_paths_are_refused)
{
    dc_atomic_file af;
    char *longp = malloc(5000);

    memset(longp, 'a', 4999);
    longp[4999] = '\0';
    cr_assert_eq(dc_atomic_open(&af, longp), DC_ERR_ARG);
    cr_assert_null(af.fp);
    cr_assert_eq(dc_atomic_open(&af, ""), DC_ERR_ARG);
    cr_assert_eq(dc_atomic_commit(&af), DC_ERR_ARG);
    free(longp);
}
