/* Several pthreads run the work items of one plan concurrently, taking item indices from a
 * shared atomic counter as an engine's thread pool would; the result must equal the
 * single-threaded run bit for bit (and the reference within tolerance). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"

enum { THREADS = 4 };

struct job {
    const conv1x1_plan *plan;
    conv1x1_dims dims;
    conv1x1_sizes sizes;
    const float *x, *res;
    float *y;
    size_t items;           /* the split: item count passed to every call */
    atomic_size_t next;     /* next item index to take */
    atomic_int errors;
};

static void *worker(void *arg) {
    struct job *job = (struct job *)arg;
    for (;;) {
        size_t i = atomic_fetch_add(&job->next, 1);
        if (i >= job->items) break;
        conv1x1_status st = conv1x1_plan_run_item(job->plan, job->dims, job->x,
                                                  job->sizes.input_len, job->y,
                                                  job->sizes.output_len, job->res,
                                                  job->sizes.residual_len, i, job->items);
        if (st != CONV1X1_OK) {
            fprintf(stderr, "item %zu: %s: %s\n", i, conv1x1_status_name((int)st),
                    conv1x1_last_error());
            atomic_fetch_add(&job->errors, 1);
        }
    }
    return NULL;
}

static void check_parallel(conv1x1_spec spec, conv1x1_dims dims, size_t max_items) {
    float *w = random_floats(spec.cin * spec.cout);
    float *bias = spec.has_bias ? random_floats(spec.cout) : NULL;
    conv1x1_plan *plan = NULL;
    CHECK_OK(conv1x1_plan_create(&spec, w, spec.cin * spec.cout, bias, spec.cout, &plan));
    if (plan == NULL) return;
    struct job job = {.plan = plan, .dims = dims};
    CHECK_OK(conv1x1_plan_sizes(plan, dims, &job.sizes));
    float *x = random_floats(job.sizes.input_len);
    float *res = spec.has_residual ? random_floats(job.sizes.output_len) : NULL;
    float *serial = random_floats(job.sizes.output_len);
    float *parallel = random_floats(job.sizes.output_len);
    poison(serial, job.sizes.output_len);
    poison(parallel, job.sizes.output_len);
    CHECK_OK(conv1x1_plan_run(plan, dims, x, job.sizes.input_len, serial, job.sizes.output_len,
                              res, job.sizes.residual_len));

    CHECK_OK(conv1x1_plan_work_item_count(plan, dims, max_items, &job.items));
    CHECK(job.items >= 1 && job.items <= max_items);
    job.x = x;
    job.res = res;
    job.y = parallel;
    atomic_init(&job.next, 0);
    atomic_init(&job.errors, 0);
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], NULL, worker, &job) == 0);
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);
    CHECK(atomic_load(&job.errors) == 0);
    if (memcmp(serial, parallel, job.sizes.output_len * sizeof(float)) != 0) {
        fprintf(stderr, "%zux%zu layout %u, %zu items: parallel result differs from serial\n",
                spec.cin, spec.cout, spec.layout, job.items);
        failures++;
    }
    double *want = reference_conv(&spec, dims, w, bias, x, res);
    CHECK(relative_l2_error(parallel, want, job.sizes.output_len) <= TOLERANCE);

    conv1x1_plan_destroy(plan);
    free(w);
    free(bias);
    free(x);
    free(res);
    free(serial);
    free(parallel);
    free(want);
}

int main(void) {
    for (conv1x1_layout layout = CONV1X1_LAYOUT_NCHW; layout <= CONV1X1_LAYOUT_NHWC; layout++) {
        /* A ResNet-sized layer split along pixels, and a small image where the split also
         * cuts output channels. */
        conv1x1_spec big = conv1x1_spec_default(256, 64);
        big.layout = layout;
        big.activation = CONV1X1_ACTIVATION_RELU;
        big.has_bias = true;
        check_parallel(big, (conv1x1_dims){1, 28, 28}, 16);

        conv1x1_spec small = conv1x1_spec_default(96, 136);
        small.layout = layout;
        small.has_residual = true;
        small.activation = CONV1X1_ACTIVATION_RELU6;
        check_parallel(small, (conv1x1_dims){2, 7, 7}, 13);
    }
    return finish("threads");
}
