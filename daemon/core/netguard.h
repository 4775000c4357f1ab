/*
 * netguard: the SSRF guard. Feed and webhook URLs come from configuration
 * and from redirects chosen by remote servers; with the guard on, a
 * transfer may not connect to this host or its private networks.
 *
 * The check runs on the resolved address of every connect (through
 * CURLOPT_OPENSOCKETFUNCTION), redirects included, so a name that resolves
 * to a private address, or rebinds to one between requests, is refused as
 * well. Behind a proxy curl connects only to the proxy, so the proxy is
 * what gets checked: a proxy on a private address needs the guard off.
 */
#ifndef NETGUARD_H
#define NETGUARD_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <curl/curl.h>

/*
 * 1 when sa is an address the guard refuses: unspecified, loopback,
 * private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
 * (169.254/16, fe80::/10), CGNAT (100.64/10), multicast, reserved and
 * documentation ranges, and IPv6 forms that embed such an IPv4 address
 * (::ffff:0:0/96 mapped, ::/96 compatible, 64:ff9b::/96 NAT64, 2002::/16
 * 6to4). Any family other than IPv4 and IPv6 is refused. 0 otherwise.
 */
int netguard_blocked(const struct sockaddr *sa, socklen_t len);
/* A transfer's guard: whether it is on, and the address it refused last
 * ("" if none), for the error a transfer that could not connect gives. */
struct netguard {
	int block_private;
	char refused[INET6_ADDRSTRLEN];
};

/* Install the connect-time check that G (the caller's, alive as long as
 * the transfer) says on EASY; off, it allows everything (but still opens
 * sockets close-on-exec). */
void netguard_apply(CURL *easy, struct netguard *g);
/* The address of SA as text in BUF (INET6_ADDRSTRLEN bytes), "?" if it
 * is neither IPv4 nor IPv6. */
void netguard_addr(const struct sockaddr *sa, char *buf, size_t size);

#endif
