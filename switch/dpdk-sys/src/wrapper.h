/*
 * The headers bindgen reads for df-dpdk-sys (see build.rs). rte_config.h
 * comes first through pkg-config's `-include rte_config.h`; it is named here
 * as well so the file also stands on its own.
 */
#include <rte_config.h>
#include <rte_version.h>
#include <rte_errno.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ethdev.h>
#include <rte_dev.h>
#include <rte_bus_vdev.h>

#include "shim.h"
