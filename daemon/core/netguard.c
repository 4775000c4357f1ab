/*
 * netguard: refuse connections to local and private addresses. Ranges
 * from the IANA IPv4 and IPv6 Special-Purpose Address Registries
 * (RFC 6890 and its updates).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "netguard.h"

struct netguard_v4range {
	uint32_t net;
	int bits;
};

/* IPv4 ranges refused (sorted by address). */
static const struct netguard_v4range netguard_v4[] = {
    {0x00000000, 8}, /* 0/8 "this network" */
    {0x0a000000, 8}, /* 10/8 private */
    {0x64400000, 10}, /* 100.64/10 CGNAT */
    {0x7f000000, 8}, /* 127/8 loopback */
    {0xa9fe0000, 16}, /* 169.254/16 link-local, cloud metadata */
    {0xac100000, 12}, /* 172.16/12 private */
    {0xc0000000, 24}, /* 192.0.0/24 protocol assignments */
    {0xc0000200, 24}, /* 192.0.2/24 documentation */
    {0xc0a80000, 16}, /* 192.168/16 private */
    {0xc6120000, 15}, /* 198.18/15 benchmarking */
    {0xc6336400, 24}, /* 198.51.100/24 documentation */
    {0xcb007100, 24}, /* 203.0.113/24 documentation */
    {0xe0000000, 4}, /* 224/4 multicast */
    {0xf0000000, 4}, /* 240/4 reserved, broadcast */
};

/* addr in host byte order. */
static int
netguard_v4_blocked(uint32_t addr)
{
	size_t i;
	uint32_t mask;

	for (i = 0; i < sizeof netguard_v4 / sizeof netguard_v4[0]; i++) {
		mask = 0xffffffffu << (32 - netguard_v4[i].bits);
		if ((addr & mask) == netguard_v4[i].net)
			return 1;
	}
	return 0;
}

static uint32_t
netguard_v4_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
netguard_v6_blocked(const uint8_t *a)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};

	if (memcmp(a, zero, 15) == 0 && a[15] <= 1)
		return 1; /* :: and ::1 */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 ||
	    memcmp(a, nat64, 12) == 0)
		return netguard_v4_blocked(netguard_v4_at(a + 12));
	if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b &&
	    a[4] == 0x00 && a[5] == 0x01)
		return 1; /* 64:ff9b:1::/48 local-use NAT64 */
	if (a[0] == 0x20 && a[1] == 0x02)
		return netguard_v4_blocked(netguard_v4_at(a + 2)); /* 6to4 */
	if (a[0] == 0x01 && a[1] == 0x00 && memcmp(a + 2, zero, 6) == 0)
		return 1; /* 100::/64 discard */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return 1; /* 2001:db8::/32 documentation */
	if ((a[0] & 0xfe) == 0xfc)
		return 1; /* fc00::/7 unique local */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return 1; /* fe80::/10 link-local */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return 1; /* fec0::/10 site-local (deprecated) */
	if (a[0] == 0xff)
		return 1; /* ff00::/8 multicast */
	return 0;
}

int
netguard_blocked(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (sa == NULL)
		return 1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof *sin) {
		sin = (const struct sockaddr_in *)sa;
		return netguard_v4_blocked(ntohl(sin->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof *sin6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		return netguard_v6_blocked(sin6->sin6_addr.s6_addr);
	}
	return 1;
}

void
netguard_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	const void *a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (a == NULL || inet_ntop(sa->sa_family, a, buf, size) == NULL)
		snprintf(buf, size, "?");
}

/* curl: open the socket for a connect, unless the guard refuses it. */
static curl_socket_t
netguard_opensocket_cb(
    void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	struct netguard *g = clientp;

	if (g->block_private &&
	    netguard_blocked(&address->addr, address->addrlen)) {
		netguard_addr(&address->addr, g->refused, sizeof g->refused);
		return CURL_SOCKET_BAD;
	}
	/* a later address allowed: a failure now is no longer the guard's */
	g->refused[0] = '\0';
	return socket(address->family, address->socktype | SOCK_CLOEXEC,
	    address->protocol);
}

void
netguard_apply(CURL *easy, struct netguard *g)
{
	g->refused[0] = '\0';
	curl_easy_setopt(
	    easy, CURLOPT_OPENSOCKETFUNCTION, netguard_opensocket_cb);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, (void *)g);
}
