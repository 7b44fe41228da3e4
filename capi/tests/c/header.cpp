// The header compiles as C++ (with -Wall -Wextra -Werror) and its functions link and run.
#include "conv1x1.h"

#include <cstdio>
#include <cstring>
#include <vector>

int main() {
    conv1x1_spec spec = conv1x1_spec_default(16, 8);
    spec.layout = CONV1X1_LAYOUT_NHWC;
    spec.activation = CONV1X1_ACTIVATION_RELU;
    std::vector<float> w(16 * 8, 0.25f);
    conv1x1_plan *plan = nullptr;
    if (conv1x1_plan_create(&spec, w.data(), w.size(), nullptr, 0, &plan) != CONV1X1_OK) {
        std::fprintf(stderr, "create: %s\n", conv1x1_last_error());
        return 1;
    }
    const conv1x1_dims dims{1, 3, 5};
    conv1x1_sizes sizes{};
    conv1x1_status st = conv1x1_plan_sizes(plan, dims, &sizes);
    std::vector<float> x(sizes.input_len, 1.0f), y(sizes.output_len, -1.0f);
    if (st == CONV1X1_OK)
        st = conv1x1_plan_run(plan, dims, x.data(), x.size(), y.data(), y.size(), nullptr, 0);
    conv1x1_plan_destroy(plan);
    if (st != CONV1X1_OK) {
        std::fprintf(stderr, "%s: %s\n", conv1x1_status_name(st), conv1x1_last_error());
        return 1;
    }
    for (float v : y) {
        if (v != 4.0f) {  // 16 inputs of 1 times weights of 0.25, exact in float
            std::fprintf(stderr, "got %g, expected 4\n", static_cast<double>(v));
            return 1;
        }
    }
    std::printf("header.cpp: version %s, ok\n", conv1x1_version());
    return 0;
}
