#include "num.h"

bool num_parse_u64(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1]))
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}
