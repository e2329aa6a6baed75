/*
 * drsn_int8_tiles.h: the integer register tiles of the quantized convolution.
 *
 * Header-only on purpose: every function is `static inline`, so each ISA module of the
 * kernels (Sources/DRSNKernelSource compiled as DRSNKernelsAVX512 / AVX2 / Baseline) that
 * imports this header compiles its own copy with its own -march, and the tile is inlined
 * into the Swift kernel that calls it (Tests/hygiene.sh checks that kernel's machine code).
 * Swift cannot express vpmaddwd reliably (LLVM does not form it from Swift SIMD code), so
 * the multiply-accumulate is written with intrinsics here.
 *
 * Operand layout (Int16 values, exact for any 8-bit quantization):
 *  - input: channel pairs interleaved, x[pair][y][x][2], each value (code - zero point);
 *  - weights: w[tap][pair][4 rows], each int32 holding the row's two channel values
 *    (low half: even channel) minus the weight zero point;
 *  - a tile accumulates 4 output channels x 16 output positions in int32:
 *      acc[r][j] += sum over taps t and pairs p of x(t, p, position j) . w[t][p][r]
 *    where the position's pair is read at input + tap_offsets[t] + p * pair_stride +
 *    j * position_stride (in int16 elements, position_stride = 2 * stride).
 * |x|, |w| <= 255, so a pair sum is at most 130050 and never saturates (vpmaddwd is exact);
 * the int32 sum is exact while taps * pairs * 2 * 65025 < 2^31 (checked by the caller).
 */
#ifndef DRSN_INT8_TILES_H
#define DRSN_INT8_TILES_H

#include <stddef.h>
#include <stdint.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

/* acc[r * 16 + j], r < 4, j < 16 (overwritten). position_stride: int16 elements between
 * consecutive output positions (2 for stride 1). */
static inline void drsn_qconv_tile_4x16(const int16_t *input, const ptrdiff_t *tap_offsets, ptrdiff_t taps,
                                        ptrdiff_t pairs, ptrdiff_t pair_stride, ptrdiff_t position_stride,
                                        const int32_t *weights, int32_t *acc) {
#if defined(__AVX2__)
    __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
    __m256i a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    const __m256i index = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                             _mm256_set1_epi32((int)(position_stride / 2)));
#define DRSN_QTILE_STEP(LOAD0, LOAD1)                                                        \
    for (ptrdiff_t t = 0; t < taps; t++) {                                                    \
        const int16_t *x = input + tap_offsets[t];                                            \
        for (ptrdiff_t p = 0; p < pairs; p++, x += pair_stride, weights += 4) {               \
            const __m256i x0 = LOAD0, x1 = LOAD1;                                             \
            __m256i w = _mm256_set1_epi32(weights[0]);                                        \
            a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(x0, w));                            \
            a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(x1, w));                            \
            w = _mm256_set1_epi32(weights[1]);                                                \
            a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(x0, w));                            \
            a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(x1, w));                            \
            w = _mm256_set1_epi32(weights[2]);                                                \
            a20 = _mm256_add_epi32(a20, _mm256_madd_epi16(x0, w));                            \
            a21 = _mm256_add_epi32(a21, _mm256_madd_epi16(x1, w));                            \
            w = _mm256_set1_epi32(weights[3]);                                                \
            a30 = _mm256_add_epi32(a30, _mm256_madd_epi16(x0, w));                            \
            a31 = _mm256_add_epi32(a31, _mm256_madd_epi16(x1, w));                            \
        }                                                                                     \
    }
    if (position_stride == 2) {
        DRSN_QTILE_STEP(_mm256_loadu_si256((const __m256i *)x), _mm256_loadu_si256((const __m256i *)(x + 16)))
    } else {
        DRSN_QTILE_STEP(_mm256_i32gather_epi32((const int *)x, index, 4),
                        _mm256_i32gather_epi32((const int *)(x + 8 * position_stride), index, 4))
    }
#undef DRSN_QTILE_STEP
    _mm256_storeu_si256((__m256i *)(acc + 0), a00);
    _mm256_storeu_si256((__m256i *)(acc + 8), a01);
    _mm256_storeu_si256((__m256i *)(acc + 16), a10);
    _mm256_storeu_si256((__m256i *)(acc + 24), a11);
    _mm256_storeu_si256((__m256i *)(acc + 32), a20);
    _mm256_storeu_si256((__m256i *)(acc + 40), a21);
    _mm256_storeu_si256((__m256i *)(acc + 48), a30);
    _mm256_storeu_si256((__m256i *)(acc + 56), a31);
#else
    for (int i = 0; i < 64; i++) acc[i] = 0;
    for (ptrdiff_t t = 0; t < taps; t++) {
        const int16_t *x = input + tap_offsets[t];
        for (ptrdiff_t p = 0; p < pairs; p++, x += pair_stride, weights += 4) {
            for (int r = 0; r < 4; r++) {
                const int32_t wv = weights[r];
                const int32_t wl = (int16_t)(uint16_t)((uint32_t)wv & 0xFFFFu);
                const int32_t wh = (int16_t)(uint16_t)((uint32_t)wv >> 16);
                for (int j = 0; j < 16; j++) {
                    const int16_t *xj = x + j * position_stride;
                    acc[r * 16 + j] += (int32_t)xj[0] * wl + (int32_t)xj[1] * wh;
                }
            }
        }
    }
#endif
}

/* v = clamp(round_half_even((float)(acc[j] + bias) * multiplier), lo - zp, hi - zp) for j < count
 * (ONNX requantization; NaN maps to lo - zp), written as the code v + zp, or, when
 * value_scale != 0, as what DequantizeLinear makes of that code: v * value_scale. */
static inline void drsn_qconv_requantize(const int32_t *acc, int32_t bias, float multiplier, float lo, float hi,
                                         float zp, float value_scale, float *out, ptrdiff_t count) {
    const float mn = lo - zp, mx = hi - zp;
    ptrdiff_t j = 0;
#if defined(__AVX2__)
    const __m256i vb = _mm256_set1_epi32(bias);
    const __m256 vm = _mm256_set1_ps(multiplier), vmn = _mm256_set1_ps(mn), vmx = _mm256_set1_ps(mx);
    const __m256 vz = _mm256_set1_ps(zp), vs = _mm256_set1_ps(value_scale);
    for (; j + 8 <= count; j += 8) {
        __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + j)), vb)), vm);
        v = _mm256_min_ps(_mm256_max_ps(v, vmn), vmx);
        v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_ps(out + j, value_scale != 0.0f ? _mm256_mul_ps(v, vs) : _mm256_add_ps(v, vz));
    }
#endif
    for (; j < count; j++) {
        float v = (float)(acc[j] + bias) * multiplier;
        v = v >= mn ? v : mn;
        v = v <= mx ? v : mx;
        /* round half to even without libm: exact for |v| < 2^22 (codes are 16-bit at most) */
        const float magic = 12582912.0f;
        v = (v + magic) - magic;
        out[j] = value_scale != 0.0f ? v * value_scale : v + zp;
    }
}

#endif /* DRSN_INT8_TILES_H */
