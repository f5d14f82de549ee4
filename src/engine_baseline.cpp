// The engine at the compiler's default instruction set.
#include <deepmnar/engine.h>
