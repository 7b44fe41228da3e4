/*
 * The two 1x1 convolutions of a ResNet-50 bottleneck block through the conv1x1 C interface,
 * checked against a naive C loop that accumulates in double:
 *
 *   t = relu(W1 x)                 256 -> 64 channels
 *   y = relu(W2 t + b2 + x)        64 -> 256 channels, residual add of the block input
 *
 * on a random 56x56 NCHW image (the 3x3 convolution between them is left out). Exits with 0
 * when both relative L2 errors are at most 1e-5. Build lines: capi/README.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "conv1x1.h"

enum { C_OUTER = 256, C_INNER = 64, HEIGHT = 56, WIDTH = 56, PIXELS = HEIGHT * WIDTH };

static uint64_t rng = 0x243F6A8885A308D3u;

static float random_float(void) { /* uniform in [-1, 1): xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (float)((double)((rng * 0x2545F4914F6CDD1Du) >> 40) / 8388608.0 - 1.0);
}

static float *random_array(size_t n, float scale) {
    float *p = malloc(n * sizeof *p);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) p[i] = scale * random_float();
    return p;
}

/* Stops the program with the library's message when a call fails. */
static void check(conv1x1_status status, const char *what) {
    if (status != CONV1X1_OK) {
        fprintf(stderr, "%s failed: %s: %s\n", what, conv1x1_status_name((int)status),
                conv1x1_last_error());
        exit(1);
    }
}

/* y[co][p] = relu(sum_ci w[co][ci] x[ci][p] + bias[co] + res[co][p]) in double, NCHW, N = 1.
 * `bias` and `res` may be NULL. Returns the relative L2 error of `got` against it. */
static double naive_error(size_t cin, size_t cout, const float *w, const float *bias,
                          const float *x, const float *res, const float *got) {
    double err2 = 0.0, ref2 = 0.0;
    double *acc = malloc(PIXELS * sizeof *acc);
    if (acc == NULL) exit(2);
    for (size_t co = 0; co < cout; co++) {
        for (size_t p = 0; p < PIXELS; p++) acc[p] = bias ? bias[co] : 0.0;
        for (size_t ci = 0; ci < cin; ci++) {
            double wv = w[co * cin + ci];
            for (size_t p = 0; p < PIXELS; p++) acc[p] += wv * x[ci * PIXELS + p];
        }
        for (size_t p = 0; p < PIXELS; p++) {
            double v = acc[p] + (res ? res[co * PIXELS + p] : 0.0);
            v = v > 0.0 ? v : 0.0;
            double e = got[co * PIXELS + p] - v;
            err2 += e * e;
            ref2 += v * v;
        }
    }
    free(acc);
    return sqrt(err2) / sqrt(ref2);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
    const size_t big = (size_t)C_OUTER * PIXELS, small = (size_t)C_INNER * PIXELS;
    /* Weights scaled by 1/sqrt(Cin) keep activations near unit size. */
    float *w1 = random_array((size_t)C_INNER * C_OUTER, 1.0f / 16.0f);
    float *w2 = random_array((size_t)C_OUTER * C_INNER, 1.0f / 8.0f);
    float *b2 = random_array(C_OUTER, 0.1f);
    float *x = random_array(big, 1.0f);
    float *t = malloc(small * sizeof *t);
    float *y = malloc(big * sizeof *y);
    if (t == NULL || y == NULL) return 2;

    conv1x1_spec reduce = conv1x1_spec_default(C_OUTER, C_INNER);
    reduce.activation = CONV1X1_ACTIVATION_RELU;
    conv1x1_spec expand = conv1x1_spec_default(C_INNER, C_OUTER);
    expand.activation = CONV1X1_ACTIVATION_RELU;
    expand.has_bias = true;
    expand.has_residual = true;

    conv1x1_plan *p1 = NULL, *p2 = NULL;
    check(conv1x1_plan_create(&reduce, w1, (size_t)C_INNER * C_OUTER, NULL, 0, &p1), "create 1");
    check(conv1x1_plan_create(&expand, w2, (size_t)C_OUTER * C_INNER, b2, C_OUTER, &p2), "create 2");

    conv1x1_plan_info info;
    check(conv1x1_plan_get_info(p1, &info), "info");
    printf("conv1x1 %s, ISA %s, kernel %s\n", conv1x1_version(), conv1x1_isa_name(info.isa),
           info.kernel_name);

    const conv1x1_dims dims = {1, HEIGHT, WIDTH};
    check(conv1x1_plan_run(p1, dims, x, big, t, small, NULL, 0), "run 1");
    check(conv1x1_plan_run(p2, dims, t, small, y, big, x, big), "run 2");

    /* Time the pair of calls: the median of up to 50 repetitions within about 0.2 s. */
    double times[50];
    int reps = 0;
    for (double spent = 0.0; reps < 50 && spent < 0.2; reps++) {
        double start = seconds();
        check(conv1x1_plan_run(p1, dims, x, big, t, small, NULL, 0), "run 1");
        check(conv1x1_plan_run(p2, dims, t, small, y, big, x, big), "run 2");
        times[reps] = seconds() - start;
        spent += times[reps];
    }
    qsort(times, (size_t)reps, sizeof times[0], compare_doubles);
    double median = times[reps / 2];
    double gflop = 2.0 * 2.0 * C_OUTER * C_INNER * PIXELS * 1e-9;
    printf("both 1x1 convolutions: %.3f ms median of %d (%.1f GFLOP/s, one thread)\n",
           median * 1e3, reps, gflop / median);

    /* Each convolution is checked on its own input, so errors do not compound. */
    double e1 = naive_error(C_OUTER, C_INNER, w1, NULL, x, NULL, t);
    double e2 = naive_error(C_INNER, C_OUTER, w2, b2, t, x, y);
    printf("relative L2 error: reduce %.2e, expand %.2e (limit 1e-5)\n", e1, e2);

    conv1x1_plan_destroy(p1);
    conv1x1_plan_destroy(p2);
    free(w1);
    free(w2);
    free(b2);
    free(x);
    free(t);
    free(y);
    int ok = e1 <= 1e-5 && e2 <= 1e-5;
    printf("%s\n", ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
