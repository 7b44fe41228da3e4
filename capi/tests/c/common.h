/* Helpers shared by the C tests of the conv1x1 C interface: checks, random data, and a naive
 * double-accumulating reference convolution. */
#ifndef CONV1X1_TEST_COMMON_H
#define CONV1X1_TEST_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv1x1.h"

/* Relative L2 error every result must stay under (f32 sums against a double reference). */
#define TOLERANCE 1e-5

static int failures = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

/* Checks that a call returned `want`; on a mismatch prints both names and the message. */
#define CHECK_STATUS(call, want)                                                         \
    do {                                                                                 \
        conv1x1_status got_ = (call);                                                    \
        if (got_ != (want)) {                                                            \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n",     \
                    __FILE__, __LINE__, #call, conv1x1_status_name((int)got_),           \
                    conv1x1_status_name((int)(want)), conv1x1_last_error());             \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, CONV1X1_OK)

/* Ends the program with the number of failed checks as its status (0: all passed). */
static inline int finish(const char *name) {
    if (failures == 0) {
        printf("%s: all checks passed\n", name);
        return 0;
    }
    fprintf(stderr, "%s: %d checks failed\n", name, failures);
    return 1;
}

/* xorshift64*: reproducible data without depending on the C library's rand(). */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static inline float random_float(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t bits = rng_state * 0x2545F4914F6CDD1Du;
    return (float)((double)(bits >> 40) / (double)(1u << 24) * 2.0 - 1.0);
}

static inline float *random_floats(size_t n) {
    float *p = (float *)malloc(n * sizeof(float));
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) p[i] = random_float();
    return p;
}

/* Fills a buffer with NaN so that an element the library fails to write cannot pass. */
static inline void poison(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

static inline double apply_activation(const conv1x1_spec *s, double v) {
    double lo, hi;
    switch (s->activation) {
    case CONV1X1_ACTIVATION_RELU: lo = 0.0; hi = INFINITY; break;
    case CONV1X1_ACTIVATION_RELU6: lo = 0.0; hi = 6.0; break;
    case CONV1X1_ACTIVATION_CLAMP: lo = s->clamp_min; hi = s->clamp_max; break;
    default: return v;
    }
    return v < lo ? lo : (v > hi ? hi : v);
}

/* The convolution done the obvious way, accumulating in double. Returns a malloc'd array of
 * N*Cout*Hout*Wout doubles in the spec's layout. */
static inline double *reference_conv(const conv1x1_spec *s, conv1x1_dims d, const float *w,
                              const float *bias, const float *x, const float *res) {
    size_t ho = (d.height - 1) / s->stride_h + 1, wo = (d.width - 1) / s->stride_w + 1;
    size_t pin = d.height * d.width, pout = ho * wo;
    double *y = (double *)malloc(d.batch * s->cout * pout * sizeof(double));
    if (y == NULL) exit(2);
    int nchw = s->layout == CONV1X1_LAYOUT_NCHW;
    for (size_t n = 0; n < d.batch; n++)
        for (size_t oh = 0; oh < ho; oh++)
            for (size_t ow = 0; ow < wo; ow++) {
                size_t pi = oh * s->stride_h * d.width + ow * s->stride_w, po = oh * wo + ow;
                for (size_t co = 0; co < s->cout; co++) {
                    double acc = bias ? bias[co] : 0.0;
                    for (size_t ci = 0; ci < s->cin; ci++) {
                        size_t xi = nchw ? (n * s->cin + ci) * pin + pi : (n * pin + pi) * s->cin + ci;
                        acc += (double)w[co * s->cin + ci] * (double)x[xi];
                    }
                    size_t yi = nchw ? (n * s->cout + co) * pout + po : (n * pout + po) * s->cout + co;
                    if (res) acc += res[yi];
                    y[yi] = apply_activation(s, acc);
                }
            }
    return y;
}

/* ||got - want|| / ||want||; NaN in `got` makes it NaN, which fails every comparison. */
static inline double relative_l2_error(const float *got, const double *want, size_t n) {
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)got[i] - want[i];
        num += e * e;
        den += want[i] * want[i];
    }
    return sqrt(num) / (den > 0.0 ? sqrt(den) : 1.0);
}

#endif
