// Copyright 2026 The dws_jax Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Vector helpers and a parallel loop shared by dws_jax's native kernels.

#ifndef DWS_JAX_NATIVE_SIMD_H_
#define DWS_JAX_NATIVE_SIMD_H_

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>

#include "xla/ffi/api/ffi.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace dws_jax_native {

namespace ffi = xla::ffi;

// Sixteen float32 lanes; GCC lowers the arithmetic to whatever vector width
// the target has (one AVX-512 register, two AVX2 registers, ...).
typedef float V __attribute__((vector_size(64)));
typedef int32_t VI __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;

inline V Splat(float x) { return V{} + x; }

inline V Load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}

inline void Store(float* p, V v) { std::memcpy(p, &v, sizeof(V)); }

// exp(x) to about 2e-7 relative error for x <= 88 (the callers' arguments
// are <= ~0): x = n log 2 + r with |r| <= log(2) / 2 and a degree-5
// minimax polynomial for exp(r), times 2^n. With AVX-512 the rounding and
// the scaling by 2^n are one instruction each (and exp underflows to 0
// below about -103); otherwise 2^n is built in the exponent bits, and
// arguments below -87.3 give exp(-87.3).
inline V ExpPoly(V r) {
  V p = Splat(8.297654800117016e-3f);
  p = p * r + 4.191538318991661e-2f;
  p = p * r + 1.6667574644088745e-1f;
  p = p * r + 4.9998894333839417e-1f;
  p = p * r + 9.999997019767761e-1f;
  return p * r + 1.0000001192092896f;
}

inline V Exp(V x) {
#ifdef __AVX512F__
  const __m512 n = _mm512_roundscale_ps(
      (__m512)(x * 1.44269504088896341f),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  V r = x - (V)n * 0.693359375f;
  r = r + (V)n * 2.12194440e-4f;
  return (V)_mm512_scalef_ps((__m512)ExpPoly(r), n);
#else
  x = x > -87.3f ? x : Splat(-87.3f);
  // t = 1.5 * 2^23 + 127 + round(x log2 e): the addition rounds to an
  // integer, and the low mantissa bits of t are the biased exponent of 2^n.
  const float shift = 12582912.0f + 127.0f;
  V t = x * 1.44269504088896341f + shift;
  V n = t - shift;
  V r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  return ExpPoly(r) * (V)((VI)t << 23);
#endif
}

inline V Max(V a, V b) { return a > b ? a : b; }

// The first `count` (<= 16) floats at p, the other lanes zero.
inline V LoadPartial(const float* p, int64_t count) {
  if (count == kLanes) return Load(p);
#ifdef __AVX512F__
  return (V)_mm512_maskz_loadu_ps((__mmask16)((1u << count) - 1), p);
#else
  V v = {};
  for (int64_t i = 0; i < count; ++i) v[i] = p[i];
  return v;
#endif
}

// Stores the first `count` (<= 16) lanes of v at p.
inline void StorePartial(float* p, V v, int64_t count) {
  if (count == kLanes) return Store(p, v);
#ifdef __AVX512F__
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << count) - 1), (__m512)v);
#else
  for (int64_t i = 0; i < count; ++i) p[i] = v[i];
#endif
}

// One stage of Transpose: exchanges bit H of the row index with bit H of
// the column index, one two-register shuffle per row (constant masks).
template <int H, int... C>
inline void TransposeStage(V* rows, std::integer_sequence<int, C...>) {
  const VI lo = {((C & H) ? kLanes + C - H : C)...};
  const VI hi = {((C & H) ? kLanes + C : C + H)...};
#pragma GCC unroll 16
  for (int a = 0; a < kLanes; ++a) {
    if (a & H) continue;
    const V x = rows[a], y = rows[a + H];
    rows[a] = __builtin_shuffle(x, y, lo);
    rows[a + H] = __builtin_shuffle(x, y, hi);
  }
}

// Transposes the 16 x 16 tile rows[r][c] in place (64 shuffles).
inline void Transpose(V* rows) {
  constexpr auto lanes = std::make_integer_sequence<int, kLanes>{};
  TransposeStage<1>(rows, lanes);
  TransposeStage<2>(rows, lanes);
  TransposeStage<4>(rows, lanes);
  TransposeStage<8>(rows, lanes);
}

// The sum of the 16 lanes of x: lanes 8, 4, 2 and 1 apart are added.
inline float HSum(V x) {
  const VI lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
#pragma GCC unroll 4
  for (int k = 8; k >= 1; k /= 2) x += __builtin_shuffle(x, lane ^ k);
  return x[0];
}

// Runs fn(begin, end) over [0, total) on the calling thread and the pool.
template <typename Fn>
void ParallelFor(ffi::ThreadPool& pool, int64_t total, int64_t grain,
                 Fn fn) {
  int64_t threads = std::max<int64_t>(1, pool.num_threads());
  int64_t tasks = std::min<int64_t>(threads, (total + grain - 1) / grain);
  if (tasks <= 1) {
    fn(int64_t{0}, total);
    return;
  }
  int64_t chunk = std::max<int64_t>(grain, total / (4 * tasks));
  struct State {
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
  };
  auto state = std::make_shared<State>();
  auto work = [state, total, chunk, fn]() {
    for (;;) {
      int64_t begin = state->next.fetch_add(chunk);
      if (begin >= total) return;
      int64_t end = std::min(begin + chunk, total);
      fn(begin, end);
      if (state->done.fetch_add(end - begin) + (end - begin) == total) {
        std::lock_guard<std::mutex> lock(state->mu);
        state->cv.notify_all();
      }
    }
  };
  for (int64_t t = 1; t < tasks; ++t) pool.Schedule(decltype(work)(work));
  work();
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->done.load() == total; });
}

}  // namespace dws_jax_native

#endif  // DWS_JAX_NATIVE_SIMD_H_
