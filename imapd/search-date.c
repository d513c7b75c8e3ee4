/* search-date.c - dates for SEARCH: IMAP date arguments and the day an
 * RFC 5322 Date: header names, both as day numbers since 1970-01-01.
 *
 * Owns: day arithmetic and lenient Date: parsing. Refuses: times and zones,
 * which RFC 3501 §6.4.4 tells SEARCH to disregard.
 */
#include "search-private.h"

#include <ctype.h>
#include <string.h>

static const char *const month_names[12] = {
        "jan", "feb", "mar", "apr", "may", "jun",
        "jul", "aug", "sep", "oct", "nov", "dec",
};

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
   well-known era arithmetic, written out from the math). */
int64_t imap_search_days_from_civil(int64_t y, unsigned m, unsigned d)
{
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static bool month_parse(const char *s, size_t len, unsigned *month_r)
{
        if (len != 3)
                return false;
        for (unsigned i = 0; i < 12; i++) {
                if (strncasecmp(s, month_names[i], 3) == 0) {
                        *month_r = i + 1;
                        return true;
                }
        }
        return false;
}

static bool digits(const char *s, size_t len, unsigned max_len, unsigned *value_r)
{
        unsigned v = 0;

        if (len == 0 || len > max_len)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        *value_r = v;
        return true;
}

static bool day_valid(unsigned y, unsigned m, unsigned d)
{
        static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
                return false;
        if (m == 2 && d == 29)
                return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        return true;
}

/* date-text = date-day "-" date-month "-" date-year (RFC 3501 §9). */
bool imap_search_date_parse(const char *str, size_t len, int64_t *day_r)
{
        const char *d1 = memchr(str, '-', len), *d2;
        unsigned day, month, year;

        if (d1 == NULL)
                return false;
        d2 = memchr(d1 + 1, '-', len - (size_t)(d1 + 1 - str));
        if (d2 == NULL ||
            !digits(str, (size_t)(d1 - str), 2, &day) ||
            !month_parse(d1 + 1, (size_t)(d2 - d1 - 1), &month) ||
            !digits(d2 + 1, len - (size_t)(d2 + 1 - str), 4, &year) ||
            len - (size_t)(d2 + 1 - str) != 4 || !day_valid(year, month, day))
                return false;
        *day_r = imap_search_days_from_civil(year, month, day);
        return true;
}

static const char *skip_cfws(const char *p)
{
        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                        p++;
                if (*p != '(')
                        return p;
                /* A comment, possibly nested; an unclosed one ends the value. */
                unsigned level = 0;
                do {
                        if (*p == '\\' && p[1] != '\0')
                                p++;
                        else if (*p == '(')
                                level++;
                        else if (*p == ')')
                                level--;
                        p++;
                } while (*p != '\0' && level > 0);
        }
}

static size_t word_len(const char *p)
{
        size_t n = 0;

        while (p[n] != '\0' && (isalnum((unsigned char)p[n])))
                n++;
        return n;
}

/* [day-of-week ","] day month year ... (RFC 5322 §3.3, obsolete forms with
   two- and three-digit years per §4.3). Anything after the year is ignored. */
bool imap_search_rfc5322_day(const char *value, int64_t *day_r)
{
        const char *p = skip_cfws(value);
        unsigned day, month, year;
        size_t n = word_len(p);

        if (n > 0 && !isdigit((unsigned char)p[0])) {
                p = skip_cfws(p + n);
                if (*p == ',')
                        p = skip_cfws(p + 1);
                n = word_len(p);
        }
        if (!digits(p, n, 2, &day))
                return false;
        p = skip_cfws(p + n);
        n = word_len(p);
        if (!month_parse(p, n, &month))
                return false;
        p = skip_cfws(p + n);
        n = word_len(p);
        if (!digits(p, n, 4, &year) || n < 2)
                return false;
        if (n == 2)
                year += year < 50 ? 2000 : 1900;
        else if (n == 3)
                year += 1900;
        if (!day_valid(year, month, day))
                return false;
        *day_r = imap_search_days_from_civil(year, month, day);
        return true;
}
