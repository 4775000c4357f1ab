/*
 * urlfetch: one feed URL fetched synchronously for the commands that take
 * FILE|URL (parse, match), with the daemon's fetch code and caps on a
 * private event loop. Response headers and body go into a parser.
 */
#ifndef URLFETCH_H
#define URLFETCH_H

struct feedparse;

/* Whether ARG names an http(s) URL rather than a file. */
int urlfetch_is_url(const char *arg);
/* Fetch URL into P (headers, then the body as it arrives). 0, or -1 with
 * *cause ("connect: ...", "http: 404 ..."). Private addresses are allowed:
 * the person at the terminal chose the URL. */
int urlfetch(const char *url, struct feedparse *p, char **cause);

#endif
