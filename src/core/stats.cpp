#include "trackiq/core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>

#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "trackiq/core/error.hpp"

namespace trackiq {

namespace {
constexpr std::size_t kSmallInput = 4096;  // below: copy + nth_element
constexpr double kStandard[] = {50.0, 90.0, 95.0, 99.0, 99.9};
}

std::span<const double> standard_percentiles() noexcept { return kStandard; }

RankInterval percentile_ci_ranks(std::uint64_t n, double p, double z) {
  if (n == 0) throw InputError("percentile confidence interval of an empty sample set");
  if (!(p >= 0.0 && p <= 100.0) || !(z >= 0.0)) throw InputError("percentile confidence interval: p must be in [0, 100], z >= 0");
  const double q = p / 100.0;
  const double nd = static_cast<double>(n);
  const double centre = nd * q;
  const double half = z * std::sqrt(nd * q * (1.0 - q));
  const double last = nd - 1.0;
  const double lo = std::clamp(std::floor(centre - half), 0.0, last);
  const double hi = std::clamp(std::ceil(centre + half), 0.0, last);
  return {static_cast<std::size_t>(lo), static_cast<std::size_t>(hi)};
}

std::vector<Percentile> exact_percentiles_inplace(std::span<std::int64_t> data,
                                                  std::span<const double> ps) {
  if (data.empty()) throw InputError("percentile of an empty sample set");
  const std::size_t n = data.size();
  // Visit the requested percentiles in ascending order so each nth_element works on the
  // part of the array above the previous rank: total work stays O(n) expected.
  std::vector<std::size_t> order(ps.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (double p : ps) {
    if (!(p >= 0.0 && p <= 100.0)) throw InputError("percentile must be in [0, 100]");
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ps[a] < ps[b]; });

  std::vector<Percentile> out(ps.size());
  std::size_t lo_bound = 0;  // data[0, lo_bound) holds only values <= data[lo_bound]
  for (std::size_t i : order) {
    const double rank = ps[i] / 100.0 * static_cast<double>(n - 1);
    const auto k = static_cast<std::size_t>(std::floor(rank));
    const double frac = rank - static_cast<double>(k);
    auto kth = data.begin() + static_cast<std::ptrdiff_t>(k);
    if (k >= lo_bound) {
      std::nth_element(data.begin() + static_cast<std::ptrdiff_t>(lo_bound), kth, data.end());
      lo_bound = k;
    }
    const double lower = static_cast<double>(*kth);
    double value = lower;
    if (frac > 0.0 && k + 1 < n) {
      // The (k+1)-th order statistic is the minimum of everything right of k.
      const double upper = static_cast<double>(*std::min_element(kth + 1, data.end()));
      value = lower + frac * (upper - lower);
    }
    out[i] = Percentile{ps[i], value};
  }
  return out;
}

namespace {

void check_ps(std::span<const double> ps) {
  for (double p : ps) {
    if (!(p >= 0.0 && p <= 100.0)) throw InputError("percentile must be in [0, 100]");
  }
}

// ---- Sample select -------------------------------------------------------------------------
//
// A value interval [lo, hi] that should hold some needed order statistics. The scan counts, for
// each interval, the samples below lo and above hi, and copies the samples inside it into one
// candidate buffer (unless lo == hi: then every sample inside equals lo and the counts suffice).
struct Interval {
  std::int64_t lo = INT64_MIN;  // INT64_MIN also when the bracket is open below
  std::int64_t hi = INT64_MAX;  // INT64_MAX also when the bracket is open above
  bool collect = true;
  std::size_t lo_pos = 0, hi_pos = 0;  // bracket positions in the sorted sample
  std::vector<std::size_t> ranks;      // needed ranks (0-based, ascending) inside
};

void free_buffer(std::int64_t* p) noexcept { std::free(p); }

// The candidates: an uninitialised buffer (only the pages written are faulted in), on
// transparent huge pages where the kernel offers them for 2 MiB and more, as numpy's arrays do.
class CandidateBuffer {
 public:
  explicit CandidateBuffer(std::size_t capacity) { allocate(std::max<std::size_t>(capacity, 64)); }
  std::int64_t* data() noexcept { return buf_.get(); }
  std::size_t size = 0;
  std::size_t capacity() const noexcept { return cap_; }
  // Room for at least `more` further values.
  void make_room(std::size_t more) {
    if (size + more <= cap_) return;
    auto old = std::move(buf_);
    allocate(std::max(2 * cap_, size + more));
    std::copy(old.get(), old.get() + size, buf_.get());
  }

 private:
  void allocate(std::size_t cap) {
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    std::size_t bytes = cap * sizeof(std::int64_t);
    void* p = nullptr;
    if (bytes >= kHuge) {
      bytes = (bytes + kHuge - 1) / kHuge * kHuge;
      p = std::aligned_alloc(kHuge, bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
      if (p) ::madvise(p, bytes, MADV_HUGEPAGE);
#endif
    } else {
      p = std::malloc(bytes);
    }
    if (!p) throw std::bad_alloc();
    buf_.reset(static_cast<std::int64_t*>(p));
    cap_ = bytes / sizeof(std::int64_t);
  }
  std::unique_ptr<std::int64_t, decltype(&free_buffer)> buf_{nullptr, &free_buffer};
  std::size_t cap_ = 0;
};

struct ScanCounts {
  std::vector<std::uint64_t> below;  // per interval: samples < lo
  std::vector<std::uint64_t> above;  // per interval: samples > hi
};

void scan_portable(std::span<const std::int64_t> xs, std::span<const Interval> ivs, ScanCounts& counts,
                   CandidateBuffer& cand) {
  for (std::int64_t x : xs) {
    bool take = false;
    for (std::size_t j = 0; j < ivs.size(); ++j) {
      const Interval& iv = ivs[j];
      const bool below = x < iv.lo;
      const bool above = x > iv.hi;
      counts.below[j] += below;
      counts.above[j] += above;
      take |= !below && !above && iv.collect;
    }
    if (take) {
      cand.make_room(1);
      cand.data()[cand.size++] = x;
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// For each 4-bit mask, the 32-bit lane indices that move the selected 64-bit lanes to the front.
struct CompressTable {
  alignas(32) std::int32_t idx[16][8];
  constexpr CompressTable() : idx{} {
    for (int m = 0; m < 16; ++m) {
      int out = 0;
      for (int lane = 0; lane < 4; ++lane) {
        if (m & (1 << lane)) {
          idx[m][out++] = 2 * lane;
          idx[m][out++] = 2 * lane + 1;
        }
      }
    }
  }
};
constexpr CompressTable kCompress{};

// AVX2: four samples per step; per interval two compares against broadcast bounds in L1
// (x > lo - 1 and x > hi) and two counter updates, with the 2 * M counters in registers (no
// spills up to M = 5). The samples inside a collecting interval are appended without a branch:
// the 4-bit inside mask picks a lane permutation (a 512-byte table) for one 32-byte store, and
// the buffer end moves by the mask's popcount. Working set besides the input stream: about
// 1 KiB of bounds and table, plus the cache line at the candidate buffer's end.
// OpenBelow: interval 0 has no lower bound. AllCollect: no interval has lo == hi.
template <int M, bool OpenBelow, bool AllCollect>
__attribute__((target("avx2,popcnt"))) void scan_avx2_m(std::span<const std::int64_t> xs,
                                                         std::span<const Interval> ivs, ScanCounts& counts,
                                                         CandidateBuffer& cand) {
  alignas(32) std::int64_t lo_minus_1[M][4], hi[M][4], collect[M][4];
  for (int j = 0; j < M; ++j) {
    const Interval& iv = ivs[static_cast<std::size_t>(j)];
    for (int l = 0; l < 4; ++l) {
      lo_minus_1[j][l] = (OpenBelow && j == 0) ? 0 : iv.lo - 1;  // lo > INT64_MIN unless OpenBelow
      hi[j][l] = iv.hi;
      collect[j][l] = iv.collect ? -1 : 0;
    }
  }
  __m256i ge_count[M], gt_count[M];
  for (int j = 0; j < M; ++j) ge_count[j] = gt_count[j] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi64x(-1);
  const std::int64_t* p = xs.data();
  const std::size_t n4 = xs.size() & ~std::size_t{3};
  // Room for 4 more values is kept at the end of the buffer, so each step may store 32 bytes.
  cand.make_room(4);
  std::int64_t* out = cand.data();
  std::size_t len = cand.size;
  std::size_t room_end = cand.capacity() - 4;
  for (std::size_t i = 0; i < n4; i += 4) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    __m256i take = _mm256_setzero_si256();
    for (int j = 0; j < M; ++j) {
      const __m256i gt = _mm256_cmpgt_epi64(x, _mm256_load_si256(reinterpret_cast<const __m256i*>(hi[j])));
      gt_count[j] = _mm256_sub_epi64(gt_count[j], gt);
      __m256i inside;
      if (OpenBelow && j == 0) {
        inside = _mm256_andnot_si256(gt, ones);
      } else {
        const __m256i ge = _mm256_cmpgt_epi64(x, _mm256_load_si256(reinterpret_cast<const __m256i*>(lo_minus_1[j])));
        ge_count[j] = _mm256_sub_epi64(ge_count[j], ge);
        inside = _mm256_andnot_si256(gt, ge);
      }
      if (!AllCollect) inside = _mm256_and_si256(inside, _mm256_load_si256(reinterpret_cast<const __m256i*>(collect[j])));
      take = _mm256_or_si256(take, inside);
    }
    const int bits = _mm256_movemask_pd(_mm256_castsi256_pd(take));
    const __m256i packed =
        _mm256_permutevar8x32_epi32(x, _mm256_load_si256(reinterpret_cast<const __m256i*>(kCompress.idx[bits])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + len), packed);
    len += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(bits)));
    if (len > room_end) [[unlikely]] {
      cand.size = len;
      cand.make_room(4 + cand.capacity());  // doubles it
      out = cand.data();
      room_end = cand.capacity() - 4;
    }
  }
  cand.size = len;
  for (int j = 0; j < M; ++j) {
    alignas(32) std::uint64_t ge[4], gt[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(ge), ge_count[j]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(gt), gt_count[j]);
    const std::uint64_t ge_sum = (OpenBelow && j == 0) ? n4 : ge[0] + ge[1] + ge[2] + ge[3];
    counts.below[static_cast<std::size_t>(j)] += n4 - ge_sum;
    counts.above[static_cast<std::size_t>(j)] += gt[0] + gt[1] + gt[2] + gt[3];
  }
  scan_portable(xs.subspan(n4), ivs, counts, cand);  // the last 0-3 samples
}

template <int M>
void scan_avx2_dispatch(std::span<const std::int64_t> xs, std::span<const Interval> ivs, ScanCounts& counts,
                        CandidateBuffer& cand) {
  const bool open_below = ivs[0].lo == INT64_MIN;
  const bool all_collect = std::all_of(ivs.begin(), ivs.end(), [](const Interval& iv) { return iv.collect; });
  if (open_below) {
    if (all_collect) scan_avx2_m<M, true, true>(xs, ivs, counts, cand);
    else scan_avx2_m<M, true, false>(xs, ivs, counts, cand);
  } else {
    if (all_collect) scan_avx2_m<M, false, true>(xs, ivs, counts, cand);
    else scan_avx2_m<M, false, false>(xs, ivs, counts, cand);
  }
}

bool avx2_available() noexcept { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"); }

bool scan_avx2(std::span<const std::int64_t> xs, std::span<const Interval> ivs, ScanCounts& counts,
               CandidateBuffer& cand) {
  switch (ivs.size()) {
    case 1: scan_avx2_dispatch<1>(xs, ivs, counts, cand); return true;
    case 2: scan_avx2_dispatch<2>(xs, ivs, counts, cand); return true;
    case 3: scan_avx2_dispatch<3>(xs, ivs, counts, cand); return true;
    case 4: scan_avx2_dispatch<4>(xs, ivs, counts, cand); return true;
    case 5: scan_avx2_dispatch<5>(xs, ivs, counts, cand); return true;
    case 6: scan_avx2_dispatch<6>(xs, ivs, counts, cand); return true;
    default: return false;
  }
}
#else
bool avx2_available() noexcept { return false; }
bool scan_avx2(std::span<const std::int64_t>, std::span<const Interval>, ScanCounts&, CandidateBuffer&) {
  return false;
}
#endif

constexpr std::size_t kMaxIntervalsPerScan = 6;
constexpr std::size_t kMaxScans = 2;
constexpr std::size_t kMaxSampleSize = 65536;
constexpr double kMaxCopiedShare = 0.25;

// Values at the ascending, distinct `ranks` of [first, last) (reordered): successive
// selections, each right of the previous rank; a rank right after the previous one is the
// minimum of what is right of it.
void select_ranks(std::int64_t* first, std::int64_t* last, std::span<const std::size_t> ranks,
                  std::vector<std::int64_t>& values) {
  std::int64_t* from = first;
  for (std::size_t r : ranks) {
    std::int64_t* it = first + r;
    if (it == from && from != first) {
      std::iter_swap(it, std::min_element(it, last));
    } else {
      std::nth_element(from, it, last);
    }
    values.push_back(*it);
    from = it + 1;
  }
}

// splitmix64: the offset of each sample inside its stratum (fixed seed: reproducible).
inline std::uint64_t mix(std::uint64_t z) noexcept {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

bool detail::avx2_scan_available() noexcept { return avx2_available(); }

// Sample select (Floyd and Rivest's idea, in one pass): a stratified sample brackets each
// needed rank with a value interval wide enough to hold it with overwhelming probability; one
// streaming pass counts the samples below and above each interval and copies the few inside;
// the counts then prove (or refute) that each needed rank lies inside its interval, and
// selection inside the copies gives the exact value. A refuted bracket returns nullopt.
std::optional<std::vector<Percentile>> detail::exact_percentiles_sampled(std::span<const std::int64_t> samples,
                                                                        std::span<const double> ps,
                                                                        const SampleSelectOptions& opt) {
  if (samples.empty()) throw InputError("percentile of an empty sample set");
  check_ps(ps);
  const std::size_t n = samples.size();

  // Needed ranks: floor and floor+1 of each interpolation point, ascending and distinct.
  std::vector<std::size_t> ranks;
  for (double p : ps) {
    const auto k = static_cast<std::size_t>(std::floor(p / 100.0 * static_cast<double>(n - 1)));
    ranks.push_back(k);
    if (k + 1 < n) ranks.push_back(k + 1);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());

  // Stratified sample: `run` consecutive values (one cache line at most) at a pseudo-random
  // offset in each of s / run equal strata, so that drawing it costs s / run memory accesses.
  const std::size_t s0 =
      std::clamp<std::size_t>(opt.sample_size ? opt.sample_size : std::min(n / 16, kMaxSampleSize), 1, n);
  const std::size_t run = (s0 % 4 == 0 && n / (s0 / 4) >= 16) ? 4 : 1;
  const std::size_t strata = s0 / run, s = strata * run;
  const std::size_t stride = n / strata;  // >= run
  std::vector<std::int64_t> sample(s);
  for (std::size_t i = 0; i < strata; ++i) {
    const auto offset =
        static_cast<std::size_t>((static_cast<unsigned __int128>(mix(i)) * (stride - run + 1)) >> 64);
    for (std::size_t k = 0; k < run; ++k) sample[i * run + k] = samples[i * stride + offset + k];
  }

  // Bracket each rank: around the sample position t = q * s, widened by `margin_sigmas`
  // standard deviations of a sample quantile's position (binomial) plus two.
  const double sd = static_cast<double>(s);
  std::vector<Interval> brackets;
  std::vector<std::size_t> positions;  // sample positions whose values are needed
  for (std::size_t r : ranks) {
    const double q = (static_cast<double>(r) + 0.5) / static_cast<double>(n);
    const double t = q * sd;
    const double margin = opt.margin_sigmas * std::sqrt(sd * q * (1.0 - q)) + 2.0;
    const double lo_pos = std::floor(t - margin), hi_pos = std::ceil(t + margin);
    Interval b;
    b.lo_pos = lo_pos < 0.0 ? SIZE_MAX : static_cast<std::size_t>(lo_pos);       // SIZE_MAX: open
    b.hi_pos = hi_pos >= sd - 1.0 ? SIZE_MAX : static_cast<std::size_t>(hi_pos);  // SIZE_MAX: open
    if (b.lo_pos != SIZE_MAX) positions.push_back(b.lo_pos);
    if (b.hi_pos != SIZE_MAX) positions.push_back(b.hi_pos);
    b.ranks.push_back(r);
    brackets.push_back(std::move(b));
  }
  // The sample's order statistics at those positions: successive nth_element, not a sort.
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  {
    auto from = sample.begin();
    for (std::size_t pos : positions) {
      const auto it = sample.begin() + static_cast<std::ptrdiff_t>(pos);
      std::nth_element(from, it, sample.end());
      from = it + 1;
    }
  }
  // Intervals: brackets merged while they overlap or touch in value, so that intervals are
  // disjoint (a sample is inside at most one) and ascending; and merged when less than 1/64 of
  // the input lies between them: another interval in the scan costs more than copying those.
  std::vector<Interval> ivs;
  for (Interval& b : brackets) {
    if (b.lo_pos != SIZE_MAX) b.lo = sample[b.lo_pos];
    if (b.hi_pos != SIZE_MAX) b.hi = sample[b.hi_pos];
    const bool near = !ivs.empty() && (b.lo_pos == SIZE_MAX || ivs.back().hi_pos == SIZE_MAX ||
                                       b.lo_pos < ivs.back().hi_pos + s / 64);
    if (!ivs.empty() && (near || b.lo <= ivs.back().hi)) {
      Interval& prev = ivs.back();
      prev.hi = std::max(prev.hi, b.hi);
      prev.hi_pos = b.hi_pos;
      prev.ranks.push_back(b.ranks.front());
    } else {
      ivs.push_back(std::move(b));
    }
  }
  if (ivs.size() > kMaxIntervalsPerScan * kMaxScans) return std::nullopt;
  double expected = 0;  // share of the input inside collecting intervals
  for (auto& iv : ivs) {
    iv.collect = iv.lo != iv.hi;  // lo == hi: every value inside is lo, no copy needed
    if (!iv.collect) continue;
    const double lo_q = iv.lo_pos == SIZE_MAX ? 0.0 : static_cast<double>(iv.lo_pos) / sd;
    const double hi_q = iv.hi_pos == SIZE_MAX ? 1.0 : static_cast<double>(iv.hi_pos + 1) / sd;
    expected += hi_q - lo_q;
  }
  // Brackets that would copy more than a quarter of the input (many close quantiles): the
  // bucket select, which gathers only the buckets of the needed ranks, does less work.
  if (expected > kMaxCopiedShare) return std::nullopt;

  // The scan(s), at most kMaxIntervalsPerScan intervals each, into one candidate buffer.
  ScanCounts counts;
  counts.below.assign(ivs.size(), 0);
  counts.above.assign(ivs.size(), 0);
  CandidateBuffer cand(static_cast<std::size_t>(std::min(1.0, expected * 1.25) * static_cast<double>(n)) + 64);
  const bool vector = opt.kernel == ScanKernel::automatic && avx2_available();
  for (std::size_t first = 0; first < ivs.size(); first += kMaxIntervalsPerScan) {
    const std::size_t m = std::min(kMaxIntervalsPerScan, ivs.size() - first);
    const std::span<const Interval> group(ivs.data() + first, m);
    ScanCounts part;
    part.below.assign(m, 0);
    part.above.assign(m, 0);
    if (!(vector && scan_avx2(samples, group, part, cand))) scan_portable(samples, group, part, cand);
    std::copy(part.below.begin(), part.below.end(), counts.below.begin() + static_cast<std::ptrdiff_t>(first));
    std::copy(part.above.begin(), part.above.end(), counts.above.begin() + static_cast<std::ptrdiff_t>(first));
  }

  // Check every bracket; split the candidates by interval (ascending); select inside each.
  std::vector<std::size_t> all_ranks;
  std::vector<std::int64_t> all_values;
  std::int64_t* seg = cand.data();
  std::int64_t* const end = cand.data() + cand.size;
  for (std::size_t j = 0; j < ivs.size(); ++j) {
    const Interval& iv = ivs[j];
    const std::uint64_t below = counts.below[j];
    const std::uint64_t inside = n - below - counts.above[j];
    if (iv.ranks.front() < below || iv.ranks.back() >= below + inside) return std::nullopt;
    all_ranks.insert(all_ranks.end(), iv.ranks.begin(), iv.ranks.end());
    if (!iv.collect) {  // lo == hi: every sample inside equals lo
      all_values.insert(all_values.end(), iv.ranks.size(), iv.lo);
      continue;
    }
    std::int64_t* const seg_end = std::partition(seg, end, [hi = iv.hi](std::int64_t x) { return x <= hi; });
    if (static_cast<std::uint64_t>(seg_end - seg) != inside)
      throw std::logic_error("exact_percentiles_sampled: candidate count disagrees with the scan's counts");
    std::vector<std::size_t> local;
    for (std::size_t r : iv.ranks) local.push_back(r - below);
    select_ranks(seg, seg_end, local, all_values);
    seg = seg_end;
  }
  // all_ranks is ascending: intervals and their ranks are.
  const auto value_of = [&](std::size_t r) {
    const auto it = std::lower_bound(all_ranks.begin(), all_ranks.end(), r);
    return static_cast<double>(all_values[static_cast<std::size_t>(it - all_ranks.begin())]);
  };
  std::vector<Percentile> result;
  result.reserve(ps.size());
  for (double p : ps) {
    const double rank = p / 100.0 * static_cast<double>(n - 1);
    const auto k = static_cast<std::size_t>(std::floor(rank));
    const double frac = rank - static_cast<double>(k);
    const double lower = value_of(k);
    double value = lower;
    if (k + 1 < n && frac > 0.0) {
      const double upper = value_of(k + 1);
      value = lower + frac * (upper - lower);
    }
    result.push_back({p, value});
  }
  return result;
}

namespace {

// Order-preserving log-linear bucket of a non-negative key: exact below 1024, then 512
// sub-buckets per power of two (~0.2 % wide). 1024 + 54 * 512 buckets cover 64-bit keys.
constexpr int kLinearBits = 10;
constexpr std::size_t kLinear = std::size_t{1} << kLinearBits;
constexpr int kSubBits = 9;
constexpr std::size_t kBuckets = kLinear + (64 - kLinearBits) * (std::size_t{1} << kSubBits);

inline std::size_t key_bucket(std::uint64_t key) noexcept {
  if (key < kLinear) return static_cast<std::size_t>(key);
  const int e = 63 - __builtin_clzll(key);  // >= kLinearBits
  const std::uint64_t top = key >> (e - kSubBits);  // in [512, 1023]
  return kLinear + static_cast<std::size_t>(e - kLinearBits) * (std::size_t{1} << kSubBits) +
         static_cast<std::size_t>(top - (std::uint64_t{1} << kSubBits));
}

}  // namespace

// Bucket select, without copying the input: pass 1 finds the minimum, pass 2 counts keys
// (x - min) per log-linear bucket, a prefix sum locates the bucket of every rank needed, pass 3
// gathers only those buckets' values, and nth_element finishes inside them. Exact; O(n).
std::vector<Percentile> detail::exact_percentiles_bucket(std::span<const std::int64_t> samples,
                                                         std::span<const double> ps) {
  if (samples.empty()) throw InputError("percentile of an empty sample set");
  check_ps(ps);
  const std::size_t n = samples.size();
  const std::int64_t min = *std::min_element(samples.begin(), samples.end());
  const auto key = [min](std::int64_t x) { return static_cast<std::uint64_t>(x) - static_cast<std::uint64_t>(min); };

  std::vector<std::uint32_t> counts(kBuckets, 0);
  if (n > UINT32_MAX) {  // counts would overflow: fall back
    std::vector<std::int64_t> scratch(samples.begin(), samples.end());
    return exact_percentiles_inplace(scratch, ps);
  }
  for (std::int64_t x : samples) ++counts[key_bucket(key(x))];

  // Ranks needed: floor and floor+1 of each interpolation point.
  struct Need {
    std::size_t rank;
    std::size_t bucket = 0;
    std::size_t rank_in_bucket = 0;
  };
  std::vector<Need> needs;
  for (double p : ps) {
    const auto k = static_cast<std::size_t>(std::floor(p / 100.0 * static_cast<double>(n - 1)));
    needs.push_back({k});
    if (k + 1 < n) needs.push_back({k + 1});
  }
  std::vector<std::size_t> order(needs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return needs[a].rank < needs[b].rank; });
  std::size_t bucket = 0, before = 0;  // `before`: samples in buckets < bucket
  for (std::size_t i : order) {
    while (before + counts[bucket] <= needs[i].rank) before += counts[bucket++];
    needs[i].bucket = bucket;
    needs[i].rank_in_bucket = needs[i].rank - before;
  }

  // Gather the values of the needed buckets only.
  std::vector<std::int32_t> slot_of(kBuckets, -1);
  std::vector<std::vector<std::int64_t>> gathered;
  for (auto& nd : needs) {
    if (slot_of[nd.bucket] < 0) {
      slot_of[nd.bucket] = static_cast<std::int32_t>(gathered.size());
      gathered.emplace_back();
      gathered.back().reserve(counts[nd.bucket]);
    }
  }
  for (std::int64_t x : samples) {
    const std::int32_t slot = slot_of[key_bucket(key(x))];
    if (slot >= 0) gathered[static_cast<std::size_t>(slot)].push_back(x);
  }
  auto value_at = [&](const Need& nd) {
    auto& g = gathered[static_cast<std::size_t>(slot_of[nd.bucket])];
    auto it = g.begin() + static_cast<std::ptrdiff_t>(nd.rank_in_bucket);
    std::nth_element(g.begin(), it, g.end());
    return static_cast<double>(*it);
  };

  std::vector<Percentile> out;
  std::size_t ni = 0;
  for (double p : ps) {
    const double rank = p / 100.0 * static_cast<double>(n - 1);
    const auto k = static_cast<std::size_t>(std::floor(rank));
    const double frac = rank - static_cast<double>(k);
    const double lower = value_at(needs[ni++]);
    double value = lower;
    if (k + 1 < n) {
      const double upper = value_at(needs[ni++]);
      if (frac > 0.0) value = lower + frac * (upper - lower);
    }
    out.push_back({p, value});
  }
  return out;
}

// Small inputs: a copy and selection. Large: the sample select (one streaming pass over the
// input); when its brackets miss (adversarial order), or there are more than 12 of them, or
// they would copy more than a quarter of the input, the bucket select (three passes). Both exact.
std::vector<Percentile> exact_percentiles(std::span<const std::int64_t> samples, std::span<const double> ps) {
  if (samples.empty()) throw InputError("percentile of an empty sample set");
  check_ps(ps);
  if (samples.size() < kSmallInput) {
    std::vector<std::int64_t> scratch(samples.begin(), samples.end());
    return exact_percentiles_inplace(scratch, ps);
  }
  if (auto r = detail::exact_percentiles_sampled(samples, ps)) return std::move(*r);
  return detail::exact_percentiles_bucket(samples, ps);
}

SampleSummary summarize(std::span<const std::int64_t> samples, std::span<const double> ps) {
  SampleSummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  const auto [mn, mx] = std::minmax_element(samples.begin(), samples.end());
  s.min = *mn;
  s.max = *mx;
  long double sum = 0;
  for (std::int64_t x : samples) sum += static_cast<long double>(x);
  const long double mean = sum / static_cast<long double>(samples.size());
  long double ss = 0;
  for (std::int64_t x : samples) {
    const long double d = static_cast<long double>(x) - mean;
    ss += d * d;
  }
  s.mean = static_cast<double>(mean);
  s.std = static_cast<double>(std::sqrt(ss / static_cast<long double>(samples.size())));
  s.cv = s.mean != 0.0 ? s.std / s.mean : 0.0;
  s.percentiles = exact_percentiles(samples, ps);
  return s;
}

void RunningStats::add(double x) noexcept {
  ++n_;
  if (n_ == 1) {
    min_ = max_ = x;
  } else {
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
  }
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (x - mean_);
}

void RunningStats::merge(const RunningStats& o) noexcept {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  const double n = static_cast<double>(n_ + o.n_);
  const double delta = o.mean_ - mean_;
  m2_ += o.m2_ + delta * delta * static_cast<double>(n_) * static_cast<double>(o.n_) / n;
  mean_ += delta * static_cast<double>(o.n_) / n;
  n_ += o.n_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

}  // namespace trackiq
