/*
 * clockshift: an LD_PRELOAD module for the daemon's integration tests
 * that makes time pass at once. Each SIGUSR2 moves every clock the
 * process reads (the wall clock and the monotonic ones) forward by
 * $FW_CLOCKSHIFT_STEP seconds (default 3600), as if the process had been
 * idle that long; each SIGUSR1 moves the wall clock alone (a clock set
 * forward by NTP or by hand).
 */
#include <sys/syscall.h>
#include <sys/time.h>

#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t shifted_wall, shifted_all;
static long step = 3600;

static void
clockshift_signal(int sig)
{
	if (sig == SIGUSR2)
		shifted_all++;
	else
		shifted_wall++;
}

__attribute__((constructor)) static void
clockshift_init(void)
{
	struct sigaction sa;
	const char *env = getenv("FW_CLOCKSHIFT_STEP");

	if (env != NULL)
		step = strtol(env, NULL, 10);
	sa.sa_handler = clockshift_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
}

static long
clockshift_offset(clockid_t id)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		return step * (shifted_wall + shifted_all);
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_BOOTTIME:
		return step * shifted_all;
	default:
		return 0;
	}
}

/* The system call itself: the sanitizers' runtime reads the clock
 * before any constructor of this module has run. */
int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = (int)syscall(SYS_clock_gettime, id, ts);

	if (rc == 0)
		ts->tv_sec += clockshift_offset(id);
	return rc;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t
time(time_t *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
