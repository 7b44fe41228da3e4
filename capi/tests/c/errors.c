/* The error paths of the conv1x1 C interface: every bad argument yields its status and a
 * message, leaves out-parameters and outputs alone, and never crashes. */
#include "common.h"

/* The last error names `word` (a cheap check that messages say what was wrong). */
#define CHECK_MESSAGE(word)                                                          \
    do {                                                                             \
        if (strstr(conv1x1_last_error(), (word)) == NULL) {                          \
            fprintf(stderr, "%s:%d: last error \"%s\" does not mention \"%s\"\n",    \
                    __FILE__, __LINE__, conv1x1_last_error(), (word));               \
            failures++;                                                              \
        }                                                                            \
    } while (0)

enum { CIN = 8, COUT = 6 };
static float weights[CIN * COUT];
static float bias[COUT];

/* Creation must fail with `want` and leave NULL in the out-parameter. */
static void expect_create_fails(const conv1x1_spec *s, const float *w, size_t wlen,
                                const float *b, size_t blen, conv1x1_status want,
                                const char *word) {
    conv1x1_plan *plan = (conv1x1_plan *)&plan; /* any non-NULL value */
    CHECK_STATUS(conv1x1_plan_create(s, w, wlen, b, blen, &plan), want);
    CHECK(plan == NULL);
    CHECK_MESSAGE(word);
    conv1x1_plan_destroy(plan);
}

static void creation_errors(void) {
    conv1x1_spec s = conv1x1_spec_default(CIN, COUT);
    const size_t wlen = CIN * COUT;

    CHECK_STATUS(conv1x1_plan_create(&s, weights, wlen, NULL, 0, NULL), CONV1X1_NULL_POINTER);
    CHECK_MESSAGE("plan");
    expect_create_fails(NULL, weights, wlen, NULL, 0, CONV1X1_NULL_POINTER, "spec");
    expect_create_fails(&s, NULL, wlen, NULL, 0, CONV1X1_NULL_POINTER, "weights");
    expect_create_fails(&s, weights, wlen - 1, NULL, 0, CONV1X1_BAD_LENGTH, "weights");
    expect_create_fails(&s, weights, wlen + 1, NULL, 0, CONV1X1_BAD_LENGTH, "weights");
    expect_create_fails(&s, weights, wlen, bias, COUT, CONV1X1_INVALID_ARGUMENT, "bias");
    expect_create_fails(&s, (const float *)((const char *)weights + 1), wlen, NULL, 0,
                        CONV1X1_INVALID_ARGUMENT, "aligned");

    conv1x1_spec t = s;
    t.has_bias = true;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_NULL_POINTER, "bias");
    expect_create_fails(&t, weights, wlen, bias, COUT - 1, CONV1X1_BAD_LENGTH, "bias");

    t = s; t.cin = 0;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_INVALID_ARGUMENT, "Cin");
    t = s; t.cout = 0;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_INVALID_ARGUMENT, "Cout");
    t = s; t.stride_w = 0;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_INVALID_ARGUMENT, "stride_w");
    t = s; t.cin = SIZE_MAX / 2; t.cout = 3;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_OVERFLOW, "overflows");
    t = s; t.layout = 7;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_INVALID_ARGUMENT, "layout");
    t = s; t.activation = 9;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_INVALID_ARGUMENT, "activation");
    t = s; t.kernel = 3;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_INVALID_ARGUMENT, "kernel");
    t = s; t.isa = 42;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_INVALID_ARGUMENT, "ISA");
    t = s; t.activation = CONV1X1_ACTIVATION_CLAMP; t.clamp_min = 2.0f; t.clamp_max = 1.0f;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_INVALID_ARGUMENT, "clamp");
    t.clamp_min = NAN;
    expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_INVALID_ARGUMENT, "clamp");

    /* An ISA this CPU lacks: NEON on x86-64, AVX2 on AArch64 (whichever is missing). */
    uint32_t mask = conv1x1_supported_isas();
    const conv1x1_isa candidates[] = {CONV1X1_ISA_NEON, CONV1X1_ISA_AVX2, CONV1X1_ISA_AVX512};
    int tested = 0;
    for (size_t i = 0; i < 3; i++) {
        if (mask & (1u << candidates[i])) continue;
        t = s; t.isa = candidates[i];
        expect_create_fails(&t, weights, wlen, NULL, 0, CONV1X1_UNSUPPORTED_ISA,
                            conv1x1_isa_name(candidates[i]));
        tested++;
    }
    CHECK(tested > 0);

    /* No specialized kernel exists for an odd pair like 3 -> 5. */
    t = conv1x1_spec_default(3, 5); t.kernel = CONV1X1_KERNEL_SPECIALIZED;
    expect_create_fails(&t, weights, 15, NULL, 0, CONV1X1_NO_KERNEL, "specialized");

    CHECK_STATUS(conv1x1_auto_isa(NULL), CONV1X1_NULL_POINTER);
    CHECK_MESSAGE("isa");
}

/* A run (whole and as one item) must fail with `want`, mention `word`, and write nothing. */
static void expect_run_fails(const conv1x1_plan *plan, conv1x1_dims d, const float *x,
                             size_t xlen, float *y, size_t ylen, const float *r, size_t rlen,
                             conv1x1_status want, const char *word) {
    float before[4] = {0};
    size_t keep = y != NULL && ylen >= 4 ? 4 : 0;
    if (keep) memcpy(before, y, sizeof before);
    CHECK_STATUS(conv1x1_plan_run(plan, d, x, xlen, y, ylen, r, rlen), want);
    CHECK_MESSAGE(word);
    CHECK_STATUS(conv1x1_plan_run_item(plan, d, x, xlen, y, ylen, r, rlen, 0, 2), want);
    CHECK_MESSAGE(word);
    if (keep) CHECK(memcmp(before, y, sizeof before) == 0);
}

static void run_errors(void) {
    conv1x1_spec s = conv1x1_spec_default(CIN, COUT);
    s.has_residual = true;
    conv1x1_plan *plan = NULL;
    CHECK_OK(conv1x1_plan_create(&s, weights, CIN * COUT, NULL, 0, &plan));
    if (plan == NULL) return;
    conv1x1_dims d = {2, 5, 4};
    size_t xlen = 2 * CIN * 20, ylen = 2 * COUT * 20;
    /* One arena holds every buffer so that overlapping views are easy to make. */
    size_t arena_len = xlen + 2 * ylen + 64;
    float *arena = random_floats(arena_len);
    float *x = arena, *y = arena + xlen, *r = arena + xlen + ylen;

    CHECK_OK(conv1x1_plan_run(plan, d, x, xlen, y, ylen, r, ylen));
    CHECK(strcmp(conv1x1_last_error(), "") == 0);

    expect_run_fails(NULL, d, x, xlen, y, ylen, r, ylen, CONV1X1_NULL_POINTER, "plan");
    expect_run_fails(plan, d, NULL, xlen, y, ylen, r, ylen, CONV1X1_NULL_POINTER, "input");
    expect_run_fails(plan, d, x, xlen, NULL, ylen, r, ylen, CONV1X1_NULL_POINTER, "output");
    expect_run_fails(plan, d, x, xlen, y, ylen, NULL, 0, CONV1X1_NULL_POINTER, "residual");
    expect_run_fails(plan, d, x, xlen - 1, y, ylen, r, ylen, CONV1X1_BAD_LENGTH, "input");
    expect_run_fails(plan, d, x, xlen, y, ylen + 1, r, ylen, CONV1X1_BAD_LENGTH, "output");
    expect_run_fails(plan, d, x, xlen, y, ylen, r, ylen - 1, CONV1X1_BAD_LENGTH, "residual");
    expect_run_fails(plan, d, x, SIZE_MAX, y, ylen, r, ylen, CONV1X1_BAD_LENGTH, "input");
    conv1x1_dims zero = {2, 0, 4};
    expect_run_fails(plan, zero, x, xlen, y, ylen, r, ylen, CONV1X1_INVALID_ARGUMENT, "height");
    conv1x1_dims huge = {SIZE_MAX / 4, 1 << 20, 1 << 20};
    expect_run_fails(plan, huge, x, xlen, y, ylen, r, ylen, CONV1X1_OVERFLOW, "overflows");
    expect_run_fails(plan, d, (const float *)((const char *)x + 2), xlen, y, ylen, r, ylen,
                     CONV1X1_INVALID_ARGUMENT, "aligned");

    /* Overlap: output on the input, straddling its end, on the residual, inside it. */
    expect_run_fails(plan, d, x, xlen, x, ylen, r, ylen, CONV1X1_OVERLAP, "input");
    expect_run_fails(plan, d, x, xlen, y - 1, ylen, r, ylen, CONV1X1_OVERLAP, "input");
    expect_run_fails(plan, d, x, xlen, r, ylen, r, ylen, CONV1X1_OVERLAP, "residual");
    expect_run_fails(plan, d, x, xlen, y + 3, ylen, r, ylen, CONV1X1_OVERLAP, "residual");
    /* Input and residual may overlap each other; touching but disjoint buffers are fine. */
    CHECK_OK(conv1x1_plan_run(plan, d, x, xlen, y, ylen, x, ylen));

    /* Work items: index and count. */
    CHECK_STATUS(conv1x1_plan_run_item(plan, d, x, xlen, y, ylen, r, ylen, 3, 3),
                 CONV1X1_INVALID_ARGUMENT);
    CHECK_MESSAGE("work item");
    CHECK_STATUS(conv1x1_plan_run_item(plan, d, x, xlen, y, ylen, r, ylen, 0, 0),
                 CONV1X1_INVALID_ARGUMENT);
    size_t count = 77;
    CHECK_STATUS(conv1x1_plan_work_item_count(plan, d, 0, &count), CONV1X1_INVALID_ARGUMENT);
    CHECK_MESSAGE("max_items");
    CHECK_STATUS(conv1x1_plan_work_item_count(plan, d, 4, NULL), CONV1X1_NULL_POINTER);
    CHECK_STATUS(conv1x1_plan_work_item_count(NULL, d, 4, &count), CONV1X1_NULL_POINTER);
    CHECK_STATUS(conv1x1_plan_work_item_count(plan, zero, 4, &count), CONV1X1_INVALID_ARGUMENT);
    CHECK(count == 77);

    /* Queries. */
    conv1x1_sizes sz;
    CHECK_STATUS(conv1x1_plan_sizes(NULL, d, &sz), CONV1X1_NULL_POINTER);
    CHECK_STATUS(conv1x1_plan_sizes(plan, d, NULL), CONV1X1_NULL_POINTER);
    CHECK_MESSAGE("sizes");
    CHECK_STATUS(conv1x1_plan_sizes(plan, zero, &sz), CONV1X1_INVALID_ARGUMENT);
    CHECK_STATUS(conv1x1_plan_sizes(plan, huge, &sz), CONV1X1_OVERFLOW);
    conv1x1_plan_info info;
    CHECK_STATUS(conv1x1_plan_get_info(NULL, &info), CONV1X1_NULL_POINTER);
    CHECK_STATUS(conv1x1_plan_get_info(plan, NULL), CONV1X1_NULL_POINTER);
    CHECK_MESSAGE("info");
    conv1x1_plan_destroy(plan);

    /* A residual passed to a plan built without one. */
    s.has_residual = false;
    CHECK_OK(conv1x1_plan_create(&s, weights, CIN * COUT, NULL, 0, &plan));
    if (plan != NULL) {
        expect_run_fails(plan, d, x, xlen, y, ylen, r, ylen, CONV1X1_INVALID_ARGUMENT,
                         "has_residual");
        CHECK_OK(conv1x1_plan_run(plan, d, x, xlen, y, ylen, NULL, 0));
        /* The residual length is ignored without a residual. */
        CHECK_OK(conv1x1_plan_run(plan, d, x, xlen, y, ylen, NULL, 12345));
        conv1x1_plan_destroy(plan);
    }
    free(arena);
}

int main(void) {
    for (size_t i = 0; i < CIN * COUT; i++) weights[i] = random_float();
    for (size_t i = 0; i < COUT; i++) bias[i] = random_float();
    creation_errors();
    run_errors();
    return finish("errors");
}
