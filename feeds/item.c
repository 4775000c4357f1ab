#include <stdlib.h>

#include "item.h"

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
	free(doc);
}
