/* Tests of experiments/tweet_emotion.c through the deepc tool, as a user runs it: on
 * small tweet CSVs written here, a training file of one label, settings that leave
 * nothing to train or validate on, and an empty vectors setting. Every failure must be
 * one line naming the file or the setting, never a library function. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TESTUTIL_TAG "tweets"
#include "testutil.h"

/* Runs the tool with `args` on tmp/data, writing runs under tmp/runs; stderr goes to
 * err. Returns the exit status. */
static int run_tool(const char *args, char *err, size_t n)
{
    char cmd[8192];
    FILE *f;
    size_t got;
    int status;

    snprintf(cmd, sizeof cmd, "%s run tweet-emotion --profile quick --data-dir %s "
             "--out %s --threads 1 --quiet %s >/dev/null 2>%s", DC_TOOL, in_tmp("data"),
             in_tmp("runs"), args, in_tmp("err.txt"));
    status = system(cmd);
    f = fopen(in_tmp("err.txt"), "r");
    cr_assert_not_null(f);
    got = fread(err, 1, n - 1, f);
    err[got] = '\0';
    fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* tmp/data/tweet-emotions/ with a training file of `per_label` rows of each label in
 * `labels` (a comma-free list of names separated by spaces) and a small test file. */
static void write_tweets(const char *labels, int per_label)
{
    char dir[512], buf[256], copy[128], *save = NULL;
    FILE *f;

    snprintf(dir, sizeof dir, "%s", in_tmp("data"));
    cr_assert_eq(mkdir(dir, 0755), 0);
    snprintf(dir, sizeof dir, "%s", in_tmp("data/tweet-emotions"));
    cr_assert_eq(mkdir(dir, 0755), 0);

    f = fopen(in_tmp("data/tweet-emotions/trainEmotions.csv"), "w");
    cr_assert_not_null(f);
    fputs("emotion,content\n", f);
    snprintf(copy, sizeof copy, "%s", labels);
    for (char *l = strtok_r(copy, " ", &save); l; l = strtok_r(NULL, " ", &save))
        for (int i = 0; i < per_label; i++)
            fprintf(f, "%s,the %s day number %d was a day\n", l, l, i);
    cr_assert_eq(fclose(f), 0);

    snprintf(buf, sizeof buf, "emotion,content\nhappiness,a happiness day\n"
             "sadness,a sadness day\nneutral,a neutral day\n");
    write_text(in_tmp("data/tweet-emotions/testEmotions.csv"), buf);
}

/* Exit status 1 and one line holding every one of want[] and no "dc_". */
static void expect_run_error(const char *args, const char *const *want)
{
    char err[4096];
    int rc = run_tool(args, err, sizeof err);

    cr_assert_eq(rc, 1, "`%s`: exit %d, expected 1 (%s)", args, rc, err);
    cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
    cr_assert_null(strstr(err, "dc_"), "names a library function: %s", err);
    for (int i = 0; want[i]; i++)
        cr_assert(strstr(err, want[i]), "`%s`: \"%s\" lacks \"%s\"", args, err, want[i]);
}

TestSuite(tweet_emotion, .init = make_tmp, .fini = remove_tmp);

Test(tweet_emotion, one_label_training_file_is_refused)
{
    const char *const want[] = {"trainEmotions.csv: the training rows hold only the "
                                "label sadness (40 rows)", "at least two", NULL};

    write_tweets("sadness", 40);
    expect_run_error("", want);
}

Test(tweet_emotion, split_and_min_count_name_the_setting)
{
    const char *const split[] = {"trainEmotions.csv: val_fraction 0.01: validation "
                                 "fraction 0.01 of 60 rows", "leaves 0 for validation",
                                 NULL};
    const char *const most[] = {"val_fraction 0.9: validation fraction 0.9 of 3 rows",
                                "0 for training", NULL};
    /* "day" twice in each of the 54 rows left for training (2 of each 20 held out). */
    const char *const count[] = {"w2v_min_count 5000: no word of the training tweets",
                                 "trainEmotions.csv", "most frequent occurs 108 times",
                                 NULL};

    write_tweets("happiness sadness neutral", 20);
    expect_run_error("--set val_fraction=0.01", split);
    expect_run_error("--set train_limit=3 --set val_fraction=0.9", most);
    expect_run_error("--set w2v_min_count=5000", count);
}

Test(tweet_emotion, empty_vectors_means_none_given, .timeout = 120)
{
    char err[4096], path[1024], line[1024];
    FILE *f;
    int rc, found = 0;

    write_tweets("happiness sadness neutral", 20);
    rc = run_tool("--set vectors= --set models=gru --set epochs=1 --set hidden=4 "
                  "--set w2v_dim=4 --set w2v_epochs=1", err, sizeof err);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err);

    /* runs/tweet-emotion/<stamp>/summary.json says the vectors were trained here. */
    snprintf(line, sizeof line, "cat %s/tweet-emotion/*/summary.json > %s",
             in_tmp("runs"), in_tmp("summary.json"));
    cr_assert_eq(system(line), 0);
    snprintf(path, sizeof path, "%s", in_tmp("summary.json"));
    f = fopen(path, "r");
    cr_assert_not_null(f);
    while (fgets(line, sizeof line, f))
        found |= strstr(line, "\"vectors\"") && strstr(line, "word2vec trained here");
    fclose(f);
    cr_assert(found, "summary.json does not say word2vec was trained here");
}
