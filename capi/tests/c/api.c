/* Every function of the conv1x1 C interface on its success path, with results compared to a
 * naive double-precision convolution. */
#include "common.h"

/* Creates a plan for `spec`, runs it on random data of `dims` (whole, and item by item),
 * and compares both results with the reference. */
static void check_problem(conv1x1_spec spec, conv1x1_dims dims) {
    float *w = random_floats(spec.cin * spec.cout);
    float *bias = spec.has_bias ? random_floats(spec.cout) : NULL;
    conv1x1_plan *plan = NULL;
    CHECK_OK(conv1x1_plan_create(&spec, w, spec.cin * spec.cout, bias, spec.has_bias ? spec.cout : 0,
                                 &plan));
    if (plan == NULL) {
        free(w);
        free(bias);
        return;
    }

    conv1x1_plan_info info;
    CHECK_OK(conv1x1_plan_get_info(plan, &info));
    CHECK(info.kernel_name != NULL && strlen(info.kernel_name) > 0);
    CHECK(info.packed_bytes >= spec.cin * spec.cout * sizeof(float));
    CHECK((conv1x1_supported_isas() & (1u << info.isa)) != 0);
    if (spec.isa != CONV1X1_ISA_AUTO) CHECK(info.isa == spec.isa);

    conv1x1_sizes sz;
    CHECK_OK(conv1x1_plan_sizes(plan, dims, &sz));
    size_t ho = (dims.height - 1) / spec.stride_h + 1, wo = (dims.width - 1) / spec.stride_w + 1;
    CHECK(sz.output.batch == dims.batch && sz.output.height == ho && sz.output.width == wo);
    CHECK(sz.input_len == dims.batch * spec.cin * dims.height * dims.width);
    CHECK(sz.output_len == dims.batch * spec.cout * ho * wo);
    CHECK(sz.residual_len == (spec.has_residual ? sz.output_len : 0));

    float *x = random_floats(sz.input_len);
    float *res = spec.has_residual ? random_floats(sz.output_len) : NULL;
    float *y = random_floats(sz.output_len);
    poison(y, sz.output_len);
    /* Free the caller's weights before running: the plan holds its own packed copy. */
    double *want = reference_conv(&spec, dims, w, bias, x, res);
    free(w);
    free(bias);

    CHECK_OK(conv1x1_plan_run(plan, dims, x, sz.input_len, y, sz.output_len, res, sz.residual_len));
    CHECK(strcmp(conv1x1_last_error(), "") == 0);
    double err = relative_l2_error(y, want, sz.output_len);
    if (!(err <= TOLERANCE)) {
        fprintf(stderr, "run: %zux%zu layout %u act %u isa %u on %zux%zux%zu: error %g\n",
                spec.cin, spec.cout, spec.layout, spec.activation, info.isa, dims.batch,
                dims.height, dims.width, err);
        failures++;
    }

    /* The same run split into items, in reverse order, must give the same bits. */
    float *y2 = random_floats(sz.output_len);
    poison(y2, sz.output_len);
    size_t max_items = 5, count = 0;
    CHECK_OK(conv1x1_plan_work_item_count(plan, dims, max_items, &count));
    CHECK(count >= 1 && count <= max_items);
    for (size_t i = max_items; i-- > 0;)
        CHECK_OK(conv1x1_plan_run_item(plan, dims, x, sz.input_len, y2, sz.output_len, res,
                                       sz.residual_len, i, max_items));
    CHECK(memcmp(y, y2, sz.output_len * sizeof(float)) == 0);

    conv1x1_plan_destroy(plan);
    free(x);
    free(res);
    free(y);
    free(y2);
    free(want);
}

static void check_info_functions(void) {
    const char *version = conv1x1_version();
    CHECK(version != NULL);
    unsigned major, minor, patch;
    CHECK(sscanf(version, "%u.%u.%u", &major, &minor, &patch) == 3);

    uint32_t mask = conv1x1_supported_isas();
    CHECK((mask & (1u << CONV1X1_ISA_SCALAR)) != 0);
    CHECK((mask & (1u << CONV1X1_ISA_AUTO)) == 0);
    CHECK((mask & (1u << conv1x1_best_isa())) != 0);
    conv1x1_isa chosen = CONV1X1_ISA_AUTO;
    CHECK_OK(conv1x1_auto_isa(&chosen));
    CHECK(chosen != CONV1X1_ISA_AUTO && (mask & (1u << chosen)) != 0);
    if (getenv("CONV1X1_ISA") == NULL) CHECK(chosen == conv1x1_best_isa());

    CHECK(strcmp(conv1x1_isa_name(CONV1X1_ISA_AUTO), "auto") == 0);
    CHECK(strcmp(conv1x1_isa_name(CONV1X1_ISA_SCALAR), "scalar") == 0);
    CHECK(strcmp(conv1x1_isa_name(CONV1X1_ISA_AVX2), "avx2") == 0);
    CHECK(strcmp(conv1x1_isa_name(CONV1X1_ISA_AVX512), "avx512") == 0);
    CHECK(strcmp(conv1x1_isa_name(CONV1X1_ISA_NEON), "neon") == 0);
    CHECK(conv1x1_isa_name(99) == NULL);

    CHECK(strcmp(conv1x1_status_name(CONV1X1_OK), "CONV1X1_OK") == 0);
    CHECK(strcmp(conv1x1_status_name(CONV1X1_OVERLAP), "CONV1X1_OVERLAP") == 0);
    CHECK(strcmp(conv1x1_status_name(-1), "CONV1X1_UNKNOWN_STATUS") == 0);
    CHECK(conv1x1_last_error() != NULL);

    conv1x1_spec s = conv1x1_spec_default(24, 16);
    CHECK(s.cin == 24 && s.cout == 16 && s.stride_h == 1 && s.stride_w == 1);
    CHECK(s.layout == CONV1X1_LAYOUT_NCHW && s.activation == CONV1X1_ACTIVATION_NONE);
    CHECK(s.isa == CONV1X1_ISA_AUTO && s.kernel == CONV1X1_KERNEL_AUTO);
    CHECK(!s.has_bias && !s.has_residual);

    conv1x1_plan_destroy(NULL); /* a no-op */
}

int main(void) {
    check_info_functions();

    uint32_t mask = conv1x1_supported_isas();
    const conv1x1_isa isas[] = {CONV1X1_ISA_AUTO, CONV1X1_ISA_SCALAR, CONV1X1_ISA_AVX2,
                                CONV1X1_ISA_AVX512, CONV1X1_ISA_NEON};
    const conv1x1_activation acts[] = {CONV1X1_ACTIVATION_NONE, CONV1X1_ACTIVATION_RELU,
                                       CONV1X1_ACTIVATION_RELU6, CONV1X1_ACTIVATION_CLAMP};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (isas[i] != CONV1X1_ISA_AUTO && (mask & (1u << isas[i])) == 0) continue;
        for (conv1x1_layout layout = CONV1X1_LAYOUT_NCHW; layout <= CONV1X1_LAYOUT_NHWC; layout++)
            for (size_t a = 0; a < 4; a++) {
                conv1x1_spec s = conv1x1_spec_default(19 + 5 * a, 13 + 11 * a);
                s.layout = layout;
                s.isa = isas[i];
                s.activation = acts[a];
                s.clamp_min = -0.5f;
                s.clamp_max = 0.75f;
                s.has_bias = a % 2 == 1;
                s.has_residual = a >= 2;
                s.stride_h = s.stride_w = 1 + a % 2;
                if (a == 3) s.kernel = CONV1X1_KERNEL_GENERIC;
                conv1x1_dims d = {1 + a % 2, 9 + a, 7 + 2 * a};
                check_problem(s, d);
            }
    }
    return finish("api");
}
