/*
 * LD_PRELOAD shim so that "xl -N create CFG" (parse the config and print
 * it as JSON) runs on a machine without Xen.  xl opens libxc and xenstore
 * handles, asks Xen its version and the host's CPUs and NUMA nodes; these
 * answer for a small host.  Nothing here is used beyond parsing.
 */
#include <errno.h>
#include <string.h>
#include <xenctrl.h>
#include <xenstore.h>

static int dummy;

xc_interface *xc_interface_open(xentoollog_logger *logger,
				xentoollog_logger *dombuild_logger,
				unsigned open_flags)
{
	(void)logger; (void)dombuild_logger; (void)open_flags;
	return (xc_interface *)&dummy;
}

int xc_interface_close(xc_interface *xch)
{
	(void)xch;
	return 0;
}

struct xs_handle *xs_open(unsigned long flags)
{
	(void)flags;
	return (struct xs_handle *)&dummy;
}

void xs_close(struct xs_handle *xsh)
{
	(void)xsh;
}

int xc_version(xc_interface *xch, int cmd, void *arg)
{
	(void)xch; (void)cmd; (void)arg;
	errno = ENOSYS;
	return -1;
}

int xc_get_max_cpus(xc_interface *xch)
{
	(void)xch;
	return 8;
}

int xc_get_online_cpus(xc_interface *xch)
{
	(void)xch;
	return 8;
}

int xc_get_max_nodes(xc_interface *xch)
{
	(void)xch;
	return 1;
}

int xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
	(void)xch;
	memset(info, 0, sizeof(*info));
	info->threads_per_core = 1;
	info->cores_per_socket = 8;
	info->nr_cpus = 8;
	info->max_cpu_id = 7;
	info->nr_nodes = 1;
	info->max_node_id = 0;
	info->total_pages = 1 << 20;
	info->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv |
			     XEN_SYSCTL_PHYSCAP_hap;
	return 0;
}

/* libxl_get_physinfo() asks for the outstanding claims: none. */
long xc_memory_op(xc_interface *xch, unsigned int cmd, void *arg, size_t len)
{
	(void)xch; (void)cmd; (void)arg; (void)len;
	return 0;
}
