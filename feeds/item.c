#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "item.h"
#include "log.h"
#include "xmalloc.h"

const char *
feed_format_name(enum feed_format format)
{
	switch (format) {
	case FEED_FORMAT_RSS090:
		return "rss090";
	case FEED_FORMAT_RSS091:
		return "rss091";
	case FEED_FORMAT_RSS092:
		return "rss092";
	case FEED_FORMAT_RSS093:
		return "rss093";
	case FEED_FORMAT_RSS094:
		return "rss094";
	case FEED_FORMAT_RSS10:
		return "rss10";
	case FEED_FORMAT_RSS20:
		return "rss20";
	case FEED_FORMAT_ATOM03:
		return "atom03";
	case FEED_FORMAT_ATOM10:
		return "atom10";
	case FEED_FORMAT_JSONFEED:
		return "json";
	case FEED_FORMAT_UNKNOWN:
		break;
	}
	return "unknown";
}

void
item_clear(struct item *item)
{
	size_t i;

	if (item == NULL)
		return;
	free(item->key);
	free(item->id);
	free(item->title_html);
	free(item->title_text);
	free(item->link);
	free(item->author);
	free(item->author_email);
	free(item->summary_html);
	free(item->summary_text);
	free(item->content_html);
	free(item->content_text);
	for (i = 0; i < item->ncategories; i++)
		free(item->categories[i]);
	free(item->categories);
	for (i = 0; i < item->nenclosures; i++) {
		free(item->enclosures[i].url);
		free(item->enclosures[i].type);
		free(item->enclosures[i].length);
	}
	free(item->enclosures);
}

void
feed_doc_free(struct feed_doc *doc)
{
	size_t i;

	if (doc == NULL)
		return;
	for (i = 0; i < doc->nitems; i++)
		item_clear(&doc->items[i]);
	free(doc->items);
	free(doc->title);
	free(doc->link);
	free(doc->bozo_reason);
	free(doc->update_period);
	free(doc->update_frequency);
	free(doc);
}

static int
item_blank(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

static void
item_hash_add(EVP_MD_CTX *md, const char *s)
{
	if (s != NULL)
		EVP_DigestUpdate(md, s, strlen(s));
	EVP_DigestUpdate(md, "", 1);
}

void
item_make_key(struct item *item)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	char when[32], *key;
	EVP_MD_CTX *md;
	int64_t t;

	free(item->key);
	item->key = NULL;
	if (!item_blank(item->id)) {
		item->key = xstrdup(item->id);
		return;
	}
	if (!item_blank(item->link)) {
		item->key = xstrdup(item->link);
		return;
	}
	t = item->published != ITEM_TIME_NONE ? item->published : item->updated;
	if (t == ITEM_TIME_NONE)
		when[0] = '\0';
	else
		snprintf(when, sizeof when, "%" PRId64, t);
	if ((md = EVP_MD_CTX_new()) == NULL)
		fatalx("out of memory (EVP_MD_CTX_new)");
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	item_hash_add(md, item->title_text);
	item_hash_add(md, when);
	item_hash_add(md,
	    item->summary_text != NULL ? item->summary_text
				       : item->content_text);
	EVP_DigestFinal_ex(md, digest, &len);
	EVP_MD_CTX_free(md);
	key = xmalloc(7 + 2 * len + 1);
	memcpy(key, "sha256:", 7);
	for (i = 0; i < len; i++)
		snprintf(key + 7 + 2 * i, 3, "%02x", digest[i]);
	item->key = key;
}
