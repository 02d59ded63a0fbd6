// The shims are static inline functions in include/CompactRecShims.h; this file gives the
// target a translation unit.
#include "CompactRecShims.h"
