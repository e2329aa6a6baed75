// classify.cpp - classify.c written with the C++ wrapper drsn.hpp.
//
//   c++ -std=c++17 classify.cpp -o classify_cpp $(pkg-config --cflags --libs drsn)
//   ./classify_cpp model.onnx input.npy [num_threads]
#include <drsn.hpp>

#include "npy.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::string shape_str(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i != 0) s += ", ";
        s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
    }
    return s + "]";
}

drsn::Tensor load_npy(const char* path) {
    npy_array a;
    char err[512];
    if (npy_load(path, &a, err, sizeof err) != 0) throw std::runtime_error(err);
    drsn::Tensor t;
    t.shape.assign(a.shape, a.shape + a.rank);
    t.data.assign(a.data, a.data + a.count);
    npy_free(&a);
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::cerr << "usage: " << argv[0] << " MODEL.onnx INPUT.npy [NUM_THREADS]\n";
        return 2;
    }
    try {
        std::cout << "drsn " << drsn::version() << " (built against " << DRSN_VERSION_STRING << ")\n";
        drsn::Options options;
        if (argc == 4) {
            char* end = nullptr;
            const long n = std::strtol(argv[3], &end, 10);
            if (*argv[3] == '\0' || *end != '\0' || n < 0 || n > 256) {
                std::cerr << "NUM_THREADS must be an integer in 0..256\n";
                return 2;
            }
            options.num_threads(static_cast<int32_t>(n));
        }
        const drsn::Model model(argv[1], options);

        std::cout << argv[1] << "\n";
        const auto inputs = model.inputs();
        for (size_t i = 0; i < inputs.size(); ++i)
            std::cout << "  input " << i << ": " << inputs[i].name << " " << drsn::dtype_name(inputs[i].dtype) << " "
                      << shape_str(inputs[i].shape) << "\n";
        const auto outputs = model.outputs();
        for (size_t i = 0; i < outputs.size(); ++i)
            std::cout << "  output " << i << ": " << outputs[i].name << " " << drsn::dtype_name(outputs[i].dtype)
                      << " " << shape_str(outputs[i].shape) << "\n";
        if (inputs.size() != 1) {
            std::cerr << "this example handles models with exactly one input\n";
            return 1;
        }

        const drsn::Tensor x = load_npy(argv[2]);
        std::cout << "input " << argv[2] << ": " << shape_str(x.shape) << "\n";
        const std::vector<drsn::Tensor> ys = model.run({x});

        for (size_t j = 0; j < ys.size(); ++j) {
            const drsn::Tensor& y = ys[j];
            const size_t rows = y.shape.empty() ? 1 : static_cast<size_t>(y.shape[0]);
            const size_t cols = rows != 0 ? y.data.size() / rows : 0;
            std::cout << "output " << outputs[j].name << " " << shape_str(y.shape) << "\n";
            for (size_t r = 0; r < rows && cols > 0; ++r) {
                const float* row = y.data.data() + r * cols;
                size_t best = 0;
                for (size_t c = 1; c < cols; ++c)
                    if (row[c] > row[best]) best = c;
                std::printf("  row %zu: argmax %zu (%.6f)\n", r, best, static_cast<double>(row[best]));
            }
        }
        return 0;
    } catch (const drsn::Error& e) {
        std::cerr << "drsn error (" << drsn_status_string(e.status()) << "): " << e.message() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
