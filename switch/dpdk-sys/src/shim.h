/*
 * df-dpdk-sys C shim: exported, callable copies of the DPDK 22.11 fast-path
 * helpers that the DPDK headers only provide as `static inline` functions
 * or macros, so Rust (which cannot call an inline C function) can reach them.
 *
 * Every function here is a one-line forward to the DPDK function of the
 * same name without the `df_` prefix (and `rte_` where it had one), with the
 * same contract: read the DPDK documentation of that function for its
 * preconditions. Nothing here checks arguments.
 *
 * Functions that libdpdk already exports (rte_pktmbuf_free_bulk,
 * rte_pktmbuf_pool_create, rte_get_tsc_hz, rte_pktmbuf_clone, ...) are NOT
 * wrapped: bindgen binds them directly.
 */
#ifndef DF_DPDK_SYS_SHIM_H
#define DF_DPDK_SYS_SHIM_H

#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

/* ---- ethdev burst I/O ---------------------------------------------------- */

/* rte_eth_rx_burst: receive up to nb_pkts mbufs into rx_pkts; returns count. */
uint16_t df_eth_rx_burst(uint16_t port_id, uint16_t queue_id,
			 struct rte_mbuf **rx_pkts, uint16_t nb_pkts);

/* rte_eth_tx_burst: hand up to nb_pkts mbufs to the driver; returns how many
 * it took (ownership passes for those; the rest still belong to the caller). */
uint16_t df_eth_tx_burst(uint16_t port_id, uint16_t queue_id,
			 struct rte_mbuf **tx_pkts, uint16_t nb_pkts);

/* ---- mbuf allocation ------------------------------------------------------ */

/* rte_pktmbuf_alloc: one reset mbuf, or NULL if the pool is empty. */
struct rte_mbuf *df_pktmbuf_alloc(struct rte_mempool *mp);

/* rte_pktmbuf_alloc_bulk: all `count` mbufs or none; 0 on success, -ENOENT. */
int df_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs,
			  unsigned int count);

/* rte_pktmbuf_free: free a (possibly chained) mbuf; NULL is allowed. */
void df_pktmbuf_free(struct rte_mbuf *m);

/* ---- mbuf data area ------------------------------------------------------- */

/* rte_pktmbuf_mtod(m, void *): start of the data in the first segment. */
void *df_pktmbuf_mtod(const struct rte_mbuf *m);

/* rte_pktmbuf_prepend: grow the data at the front; NULL if headroom is short. */
char *df_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len);

/* rte_pktmbuf_adj: drop len bytes at the front; NULL if data_len < len. */
char *df_pktmbuf_adj(struct rte_mbuf *m, uint16_t len);

/* rte_pktmbuf_append: grow the data at the end of the LAST segment; returns
 * a pointer to the new bytes, NULL if tailroom is short. */
char *df_pktmbuf_append(struct rte_mbuf *m, uint16_t len);

/* rte_pktmbuf_trim: drop len bytes at the end of the last segment; 0 or -1. */
int df_pktmbuf_trim(struct rte_mbuf *m, uint16_t len);

/* rte_pktmbuf_headroom / rte_pktmbuf_tailroom (first segment). */
uint16_t df_pktmbuf_headroom(const struct rte_mbuf *m);
uint16_t df_pktmbuf_tailroom(const struct rte_mbuf *m);

/* rte_mbuf_to_priv: the application private area, which starts right after
 * struct rte_mbuf (sizeof = 128) and ends where the buffer (buf_addr) starts. */
void *df_mbuf_to_priv(struct rte_mbuf *m);

/* ---- reference counts (for clones / multicast) ---------------------------- */

/* rte_mbuf_refcnt_read / rte_mbuf_refcnt_update on ONE segment. */
uint16_t df_mbuf_refcnt_read(const struct rte_mbuf *m);
uint16_t df_mbuf_refcnt_update(struct rte_mbuf *m, int16_t value);

/* rte_pktmbuf_refcnt_update: add `value` to the refcnt of EVERY segment. */
void df_pktmbuf_refcnt_update(struct rte_mbuf *m, int16_t value);

/* ---- per-lcore state and time --------------------------------------------- */

/* rte_errno: the calling thread's DPDK error number (a C TLS variable). */
int df_rte_errno(void);

/* rte_lcore_id: the calling thread's lcore id, or LCORE_ID_ANY (UINT32_MAX)
 * on a thread DPDK does not know. */
unsigned int df_lcore_id(void);

/* rte_rdtsc: the CPU time-stamp counter (rte_get_tsc_hz() ticks/second). */
uint64_t df_rdtsc(void);

#endif /* DF_DPDK_SYS_SHIM_H */
