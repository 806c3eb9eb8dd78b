/* End to end: the deepc tool's quick profiles on the real MNIST files, and its handling
 * of bad command lines. Runs the built binary, as a user would. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MNIST_DIR DC_SOURCE_DIR "/data"

/* Runs a shell command, capturing stderr into err (if non-NULL); returns exit status. */
static int run_cmd(const char *cmd, char *err, size_t n)
{
    char full[8192], errfile[] = "/tmp/deepc-e2e-XXXXXX";
    int fd = mkstemp(errfile), status;

    cr_assert_geq(fd, 0);
    close(fd);
    snprintf(full, sizeof full, "%s 2>%s >/dev/null", cmd, errfile);
    status = system(full);
    if (err) {
        FILE *f = fopen(errfile, "r");
        size_t got = f ? fread(err, 1, n - 1, f) : 0;
        err[got] = '\0';
        if (f)
            fclose(f);
    }
    unlink(errfile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The single run folder under root/name/. */
static void run_folder(const char *root, const char *name, char *out, size_t n)
{
    char parent[4096];
    DIR *d;
    struct dirent *e;

    snprintf(parent, sizeof parent, "%s/%s", root, name);
    d = opendir(parent);
    cr_assert_not_null(d, "no folder %s", parent);
    out[0] = '\0';
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            snprintf(out, n, "%.3000s/%.255s", parent, e->d_name);
    closedir(d);
    cr_assert(out[0], "no run folder in %s", parent);
}

static cJSON *read_json(const char *dir, const char *file)
{
    char path[8192], buf[65536];
    FILE *f;
    size_t got;

    snprintf(path, sizeof path, "%s/%s", dir, file);
    f = fopen(path, "r");
    cr_assert_not_null(f, "missing %s", path);
    got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    cJSON *j = cJSON_Parse(buf);
    cr_assert_not_null(j, "%s is not JSON", path);
    return j;
}

static double json_num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

    cr_assert(cJSON_IsNumber(v), "summary lacks %s", key);
    return v->valuedouble;
}

static void expect_files(const char *dir, const char *const *files)
{
    char path[8192];

    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        cr_assert_eq(access(path, R_OK), 0, "run folder lacks %s", files[i]);
    }
}

static void make_tmp_root(char *root)
{
    strcpy(root, "/tmp/deepc-runs-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
}

Test(e2e, mnist_mlp_quick_learns, .timeout = 300)
{
    char root[64], cmd[8192], dir[4096];
    static const char *const files[] = {"config.json", "log.txt", "metrics.csv",
        "summary.json", "loss.png", "accuracy.png", "model.safetensors", "report.html", NULL};

    make_tmp_root(root);
    snprintf(cmd, sizeof cmd, "%s run mnist-mlp --profile quick --data-dir %s --out %s "
             "--threads 2 --quiet", DC_TOOL, MNIST_DIR, root);
    cr_assert_eq(run_cmd(cmd, NULL, 0), 0, "%s failed", cmd);
    run_folder(root, "mnist-mlp", dir, sizeof dir);
    expect_files(dir, files);

    /* 5 epochs on 20k images at lr 0.1: an untrained or broken net stays near 10%. */
    cJSON *s = read_json(dir, "summary.json");
    cr_assert_geq(json_num(s, "test_acc"), 0.88, "test accuracy %.4f",
                  json_num(s, "test_acc"));
    cr_assert_geq(json_num(s, "train_acc"), 0.85);
    cr_assert_eq(json_num(s, "parameters"), 101770);
    cJSON_Delete(s);

    /* The runs index lists it and links its report. */
    char index[4096], html[1 << 16];
    snprintf(cmd, sizeof cmd, "%s report %s", DC_TOOL, root);
    cr_assert_eq(run_cmd(cmd, NULL, 0), 0);
    snprintf(index, sizeof index, "%s/index.html", root);
    FILE *f = fopen(index, "r");
    cr_assert_not_null(f, "no %s", index);
    html[fread(html, 1, sizeof html - 1, f)] = '\0';
    fclose(f);
    cr_assert(strstr(html, "1 run under"), "%s", html);
    cr_assert(strstr(html, dir + strlen(root) + 1), "index lacks %s", dir);
    cr_assert(strstr(html, "/report.html\""));
}

Test(e2e, random_labels_quick_memorises, .timeout = 300)
{
    char root[64], cmd[8192], dir[4096];

    make_tmp_root(root);
    snprintf(cmd, sizeof cmd, "%s run random-labels --profile quick --data-dir %s --out %s "
             "--threads 2 --quiet", DC_TOOL, MNIST_DIR, root);
    cr_assert_eq(run_cmd(cmd, NULL, 0), 0, "%s failed", cmd);
    run_folder(root, "random-labels", dir, sizeof dir);

    cJSON *s = read_json(dir, "summary.json");
    cr_assert_eq(json_num(s, "train_acc"), 1.0, "train accuracy %.4f",
                 json_num(s, "train_acc"));
    cr_assert_lt(json_num(s, "train_loss"), 0.05);
    /* 2000 coin-flip test labels: chance is 0.5 with a standard deviation of 0.011. */
    cr_assert(json_num(s, "test_acc") > 0.45 && json_num(s, "test_acc") < 0.55,
              "test accuracy %.4f", json_num(s, "test_acc"));
    cJSON_Delete(s);
}

/* Each bad command line exits 2 with one line naming the culprit. */
Test(e2e, bad_command_lines_exit_2_naming_the_culprit)
{
    static const char *const cases[][2] = {
        {"run no-such-exp", "unknown experiment \"no-such-exp\""},
        {"run mnist-mlp --bogus", "unknown option --bogus"},
        {"run mnist-mlp --set nope=1", "nope: unknown key"},
        {"run mnist-mlp --set lr=fast", "lr=fast: expected a finite decimal number"},
        {"run mnist-mlp --set epochs=-3", "epochs=-3: expected a whole number"},
        {"run mnist-mlp --set reduction=max", "expected one of mean|sum"},
        {"run mnist-mlp --set epochs=0", "epochs=0: expected a value from 1 to"},
        {"run random-labels --set lr=-1", "lr=-1: expected a value from 0 to"},
        {"run mnist-mlp --set lr=0x10", "lr=0x10: expected a finite decimal number"},
        {"run mnist-mlp --set lr=1e40", "lr=1e40: expected a value from 0 to"},
        {"run mnist-mlp --set epochs=2147483647", "expected a whole number from 1 to"},
        {"run mnist-mlp --out ''", "--out needs a non-empty value"},
        {"run tweet-emotion --set hidden=64,x", "item \"x\" is not a number"},
        {"run tweet-emotion --set optim=adam,rmsprop", "item \"rmsprop\" is not one of"},
        {"--version extra", "--version takes no argument"},
        {"run mnist-mlp --profile huge", "unknown profile"},
        {"run mnist-mlp --threads 0", "--threads 0"},
        {"run mnist-mlp --seed", "--seed needs a value"},
        {"frobnicate", "unknown command \"frobnicate\""},
        {"data verify cifar", "unknown dataset \"cifar\""},
        {"data verify mnist --data-dir", "--data-dir needs a folder after it"},
        {"data verify mnist --data-dir ''", "--data-dir needs a folder after it"},
        {"bench --batch x", "--batch"},
    };
    char cmd[4096], err[4096];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s %s", DC_TOOL, cases[i][0]);
        cr_expect_eq(run_cmd(cmd, err, sizeof err), 2, "`%s` should exit 2", cases[i][0]);
        cr_expect(strstr(err, cases[i][1]), "`%s`: stderr \"%s\" lacks \"%s\"", cases[i][0],
                  err, cases[i][1]);
        cr_expect_eq(strchr(err, '\n'), err + strlen(err) - 1, "`%s`: not one line: %s",
                     cases[i][0], err);
    }
}

Test(e2e, missing_data_fails_naming_the_place)
{
    char cmd[4096], err[4096], root[64];

    make_tmp_root(root);
    snprintf(cmd, sizeof cmd, "%s run mnist-mlp --profile quick --data-dir %s --out %s",
             DC_TOOL, root, root);
    cr_assert_eq(run_cmd(cmd, err, sizeof err), 1);
    cr_assert(strstr(err, root), "stderr does not name %s: %s", root, err);
}

Test(e2e, data_verify_mnist_passes_on_the_bundled_files)
{
    char cmd[4096];

    snprintf(cmd, sizeof cmd, "%s data verify mnist --data-dir %s", DC_TOOL, MNIST_DIR);
    cr_assert_eq(run_cmd(cmd, NULL, 0), 0);
}

/* The shared data folder ($DEEPC_DATA, as make test sets it), or NULL. */
static const char *shared_data(const char *dataset)
{
    static char path[4096];
    const char *root = getenv("DEEPC_DATA");

    if (!root)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", root, dataset);
    return access(path, R_OK) == 0 ? root : NULL;
}

Test(e2e, dog_emotion_quick_runs_on_real_photos, .timeout = 600)
{
    char root[64], cmd[8192], dir[4096];
    const char *data = shared_data("dog-emotion");
    static const char *const files[] = {"config.json", "log.txt", "metrics.csv",
        "summary.json", "splits.csv", "class_counts.png", "samples_raw.png",
        "samples_augmented.png", "loss.png", "accuracy.png", "confusion.png",
        "model.safetensors", "report.html", NULL};

    if (!data)
        cr_skip_test("SKIPPED LOUDLY: dog-emotion data not found under $DEEPC_DATA");
    make_tmp_root(root);
    snprintf(cmd, sizeof cmd, "%s run dog-emotion --profile quick --data-dir %s --out %s "
             "--threads 2 --quiet", DC_TOOL, data, root);
    cr_assert_eq(run_cmd(cmd, NULL, 0), 0, "%s failed", cmd);
    run_folder(root, "dog-emotion", dir, sizeof dir);
    expect_files(dir, files);

    cJSON *s = read_json(dir, "summary.json");
    cr_assert_eq(json_num(s, "parameters"), 53940);
    cr_assert(json_num(s, "test_acc") >= 0.0 && json_num(s, "test_acc") <= 1.0);
    cr_assert_geq(json_num(s, "best_epoch"), 1);
    cJSON_Delete(s);
}

/* Copies the first n photos of the shared dog-emotion class `from` into root/dog-emotion/
 * a folder called `to`. */
static void copy_photos(const char *data, const char *from, const char *root,
                        const char *to, int n)
{
    char cmd[8192];

    snprintf(cmd, sizeof cmd, "mkdir -p '%s/dog-emotion/%s' && ls '%s/dog-emotion/%s' | "
             "head -%d | while read f; do cp \"%s/dog-emotion/%s/$f\" '%s/dog-emotion/%s/'; "
             "done", root, to, data, from, n, data, from, root, to);
    cr_assert_eq(run_cmd(cmd, NULL, 0), 0, "%s failed", cmd);
}

/* Class folders whose names need CSV quoting, a training split that leaves a batch of
 * one (batch norm cannot train on it: dropped with a warning), fewer images than the
 * sample grids hold, and scoring an earlier run's checkpoint only with its settings. */
Test(e2e, dog_emotion_odd_folders_and_from_run, .timeout = 600)
{
    char root[64], cmd[8192], dir[4096], err[8192], path[8192], *csv;
    const char *data = shared_data("dog-emotion");
    FILE *f;
    size_t got;

    if (!data)
        cr_skip_test("SKIPPED LOUDLY: dog-emotion data not found under $DEEPC_DATA");
    make_tmp_root(root);
    copy_photos(data, "angry", root, "a,b", 10);
    copy_photos(data, "sad", root, "q\"t", 10);

    /* 10 + 10 images split 7/1/2 per class: 14 training images, batch 13. */
    snprintf(cmd, sizeof cmd, "%s run dog-emotion --data-dir %s --out %s/runs --threads 2 "
             "--quiet --set epochs=1 --set batch=13", DC_TOOL, root, root);
    cr_assert_eq(run_cmd(cmd, err, sizeof err), 0, "%s failed: %s", cmd, err);
    cr_assert_not_null(strstr(err, "training split of 14 images with batch 13 leaves a "
                              "last batch of 1"), "no warning: %s", err);
    snprintf(path, sizeof path, "%s/runs", root);
    run_folder(path, "dog-emotion", dir, sizeof dir);
    expect_files(dir, (const char *const[]){"samples_raw.png", "report.html", NULL});

    snprintf(path, sizeof path, "%s/splits.csv", dir);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    csv = calloc(1, 1 << 16);
    got = fread(csv, 1, (1 << 16) - 1, f);
    fclose(f);
    csv[got] = '\0';
    snprintf(path, sizeof path, "train,\"a,b\",\"%s/dog-emotion/a,b/", root);
    cr_assert_not_null(strstr(csv, path), "splits.csv lacks %s:\n%s", path, csv);
    snprintf(path, sizeof path, "test,\"q\"\"t\",\"%s/dog-emotion/q\"\"t/", root);
    cr_assert_not_null(strstr(csv, path), "splits.csv lacks %s:\n%s", path, csv);
    free(csv);

    /* The earlier run's checkpoint is scored only with the settings that made its split
     * and input size. */
    snprintf(cmd, sizeof cmd, "%s run dog-emotion --data-dir %s --out %s/runs2 --threads 2 "
             "--quiet --set epochs=1 --set batch=13 --set image_size=32 --set from_run=%s",
             DC_TOOL, root, root, dir);
    cr_assert_eq(run_cmd(cmd, err, sizeof err), 1, "%s: %s", cmd, err);
    cr_assert_not_null(strstr(err, "image_size"), "%s", err);
    snprintf(cmd, sizeof cmd, "%s run dog-emotion --data-dir %s --out %s/runs3 --threads 2 "
             "--quiet --set epochs=1 --set batch=13 --set from_run=%s", DC_TOOL, root, root,
             dir);
    cr_assert_eq(run_cmd(cmd, err, sizeof err), 0, "%s: %s", cmd, err);

    /* Nor on data whose class folders are named otherwise: labels would be mismatched. */
    snprintf(cmd, sizeof cmd, "mv '%s/dog-emotion/a,b' '%s/dog-emotion/furious'", root, root);
    cr_assert_eq(run_cmd(cmd, NULL, 0), 0);
    snprintf(cmd, sizeof cmd, "%s run dog-emotion --data-dir %s --out %s/runs4 --threads 2 "
             "--quiet --set epochs=1 --set batch=13 --set from_run=%s", DC_TOOL, root, root,
             dir);
    cr_assert_eq(run_cmd(cmd, err, sizeof err), 1, "%s: %s", cmd, err);
    cr_assert_not_null(strstr(err, "trained on the classes [\"a,b\",\"q\\\"t\"], but the "
                              "data's are [\"furious\",\"q\\\"t\"]"), "%s", err);
}

Test(e2e, tweet_emotion_quick_runs_on_real_tweets, .timeout = 600)
{
    char root[64], cmd[8192], dir[4096];
    static const char *const files[] = {"grid.csv", "class_counts.png", "confusion_GRU.png",
        "confusion_LSTM.png", "loss_GRU.png", "accuracy_LSTM.png", "model_GRU.safetensors",
        "report.html", NULL};

    make_tmp_root(root);
    snprintf(cmd, sizeof cmd, "%s run tweet-emotion --profile quick --data-dir %s --out %s "
             "--threads 2 --quiet", DC_TOOL, MNIST_DIR, root);
    cr_assert_eq(run_cmd(cmd, NULL, 0), 0, "%s failed", cmd);
    run_folder(root, "tweet-emotion", dir, sizeof dir);
    expect_files(dir, files);

    /* Three classes, the largest 37%: a working classifier beats always-happiness on
     * validation. The quick vectors are trained on 7k tweets and miss more test words,
     * so test accuracy is only checked to be a real measurement. */
    cJSON *s = read_json(dir, "summary.json");
    cr_assert_gt(json_num(s, "GRU_val_acc"), 0.42, "GRU %.4f", json_num(s, "GRU_val_acc"));
    cr_assert_gt(json_num(s, "LSTM_val_acc"), 0.42, "LSTM %.4f",
                 json_num(s, "LSTM_val_acc"));
    cr_assert(json_num(s, "GRU_test_acc") > 0.3 && json_num(s, "GRU_test_acc") < 1.0);
    cJSON_Delete(s);
}
