/* dwconv_vnni — dwconv_avx2.c compiled for AVX2 + AVX-VNNI (-mavx2 -mavxvnni): each
 * _mm256_madd_epi16 + _mm256_add_epi32 is one _mm256_dpwssd_avx_epi32, the same int32 sum
 * (two int16 products added to the accumulator, wrapping). Packing is shared. */
#if defined(__AVX2__) && defined(__AVXVNNI__)
#define DOT(acc, x, w) _mm256_dpwssd_avx_epi32(acc, x, w)
#define DW_ENTRY mnv2_dw3_avxvnni
#include "dwconv_avx2.c"
#else
typedef int mnv2_dwconv_vnni_unavailable; /* ISO C forbids an empty translation unit */
#endif
