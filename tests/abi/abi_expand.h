/*
 * Expands abi_list.h into a table of struct abi_fact.
 *
 * The includer has included the headers to measure and defines
 *   ABI_TABLE, ABI_NFACTS   names of the array and of its length
 *   ABI_VFIO_PREFIXED       (optional) if the VFIO names carry softiommu's
 *                           sio_/SIO_ prefix
 *
 * Facts per list entry:
 *   STRUCT(s)           sizeof, alignof
 *   FIELD(s, f)         offsetof, sizeof, unsigned-ness of the type
 *   FIELD_ARRAY(s, f)   offsetof, sizeof, element sizeof, element unsigned-ness
 *   FIELD_RECORD(s, f)  offsetof, sizeof
 *   FIELD_PTR(s, f)     offsetof, sizeof, pointee sizeof
 *   FIELD_FLEX(s, f)    offsetof, element sizeof
 *   ENUM(e)             sizeof(enum e)
 *   CONST(c)            value, sizeof, unsigned-ness, whether it is a macro
 *   IOCTL(c)            value, whether it is a macro
 * Whether a name is a macro matters to programs that test it with #ifdef.
 */
#include <stddef.h>

#include "abi_facts.h"

#define ABI_STR(x) #x
#define ABI_XSTR(x) ABI_STR(x)
#define ABI_MEMBER(T, f) (((T *)0)->f)
#define ABI_UNSIGNED_T(t) ((t)-1 > (t)0)
/* An integer constant expression's type is unsigned (after promotion). */
#define ABI_UNSIGNED_C(c) ((c) - (c) - 1 > 0)

#define ABI_F(k, first, item, what, v) \
	{ k, first, item, what, (long long)(v), NULL, NULL },
#define ABI_MACRO_F(k, item, spelled, id) \
	{ k, 0, item, "is a macro", 0, spelled, ABI_XSTR(id) },

#define ABI_STRUCT_FACTS(T, label)                                         \
	ABI_F(ABI_K_STRUCT, 1, "struct " label, "sizeof", sizeof(T))       \
	ABI_F(ABI_K_STRUCT, 0, "struct " label, "alignof", _Alignof(T))
#define ABI_FIELD_FACTS(T, f, label)                                       \
	ABI_F(ABI_K_FIELD, 1, label "." #f, "offsetof", offsetof(T, f))    \
	ABI_F(ABI_K_FIELD, 0, label "." #f, "sizeof",                      \
	      sizeof(ABI_MEMBER(T, f)))                                    \
	ABI_F(ABI_K_FIELD, 0, label "." #f, "unsigned",                    \
	      ABI_UNSIGNED_T(__typeof__(ABI_MEMBER(T, f))))
#define ABI_FIELD_ARRAY_FACTS(T, f, label)                                 \
	ABI_F(ABI_K_FIELD, 1, label "." #f, "offsetof", offsetof(T, f))    \
	ABI_F(ABI_K_FIELD, 0, label "." #f, "sizeof",                      \
	      sizeof(ABI_MEMBER(T, f)))                                    \
	ABI_F(ABI_K_FIELD, 0, label "." #f, "element sizeof",              \
	      sizeof(ABI_MEMBER(T, f)[0]))                                 \
	ABI_F(ABI_K_FIELD, 0, label "." #f, "element unsigned",            \
	      ABI_UNSIGNED_T(__typeof__(ABI_MEMBER(T, f)[0])))
#define ABI_FIELD_RECORD_FACTS(T, f, label)                                \
	ABI_F(ABI_K_FIELD, 1, label "." #f, "offsetof", offsetof(T, f))    \
	ABI_F(ABI_K_FIELD, 0, label "." #f, "sizeof",                      \
	      sizeof(ABI_MEMBER(T, f)))
#define ABI_FIELD_PTR_FACTS(T, f, label)                                   \
	ABI_F(ABI_K_FIELD, 1, label "." #f, "offsetof", offsetof(T, f))    \
	ABI_F(ABI_K_FIELD, 0, label "." #f, "sizeof",                      \
	      sizeof(ABI_MEMBER(T, f)))                                    \
	ABI_F(ABI_K_FIELD, 0, label "." #f, "pointee sizeof",              \
	      sizeof(*ABI_MEMBER(T, f)))
#define ABI_FIELD_FLEX_FACTS(T, f, label)                                  \
	ABI_F(ABI_K_FIELD, 1, label "." #f, "offsetof", offsetof(T, f))    \
	ABI_F(ABI_K_FIELD, 0, label "." #f, "element sizeof",              \
	      sizeof(ABI_MEMBER(T, f)[0]))
#define ABI_CONST_FACTS(id, spelled, label)                                \
	ABI_F(ABI_K_CONST, 1, label, "value", id)                          \
	ABI_F(ABI_K_CONST, 0, label, "sizeof", sizeof(id))                 \
	ABI_F(ABI_K_CONST, 0, label, "unsigned", ABI_UNSIGNED_C(id))       \
	ABI_MACRO_F(ABI_K_CONST, label, spelled, id)
#define ABI_IOCTL_FACTS(id, spelled, label)                                \
	ABI_F(ABI_K_IOCTL, 1, label, "value", id)                          \
	ABI_MACRO_F(ABI_K_IOCTL, label, spelled, id)

#define STRUCT(s) ABI_STRUCT_FACTS(struct s, #s)
#define FIELD(s, f) ABI_FIELD_FACTS(struct s, f, #s)
#define FIELD_ARRAY(s, f) ABI_FIELD_ARRAY_FACTS(struct s, f, #s)
#define FIELD_RECORD(s, f) ABI_FIELD_RECORD_FACTS(struct s, f, #s)
#define FIELD_PTR(s, f) ABI_FIELD_PTR_FACTS(struct s, f, #s)
#define FIELD_FLEX(s, f) ABI_FIELD_FLEX_FACTS(struct s, f, #s)
#define ENUM(e) ABI_F(ABI_K_ENUM, 1, "enum " #e, "sizeof", sizeof(enum e))
#define CONST(c) ABI_CONST_FACTS(c, #c, #c)
#define IOCTL(c) ABI_IOCTL_FACTS(c, #c, #c)

#ifdef ABI_VFIO_PREFIXED
/* The pasting must happen here, on the unexpanded name. */
#define VFIO_STRUCT(s) ABI_STRUCT_FACTS(struct sio_##s, #s)
#define VFIO_FIELD(s, f) ABI_FIELD_FACTS(struct sio_##s, f, #s)
#define VFIO_FIELD_ARRAY(s, f) ABI_FIELD_ARRAY_FACTS(struct sio_##s, f, #s)
#define VFIO_FIELD_RECORD(s, f) ABI_FIELD_RECORD_FACTS(struct sio_##s, f, #s)
#define VFIO_FIELD_PTR(s, f) ABI_FIELD_PTR_FACTS(struct sio_##s, f, #s)
#define VFIO_FIELD_FLEX(s, f) ABI_FIELD_FLEX_FACTS(struct sio_##s, f, #s)
#define VFIO_ENUM(e) ABI_F(ABI_K_ENUM, 1, "enum " #e, "sizeof", sizeof(enum sio_##e))
#define VFIO_CONST(c) ABI_CONST_FACTS(SIO_##c, ABI_STR(SIO_##c), #c)
#define VFIO_CONST_AS(c, ours) ABI_CONST_FACTS(ours, #ours, #c)
#define VFIO_IOCTL(c) ABI_IOCTL_FACTS(SIO_##c, ABI_STR(SIO_##c), #c)
#else
#define VFIO_STRUCT STRUCT
#define VFIO_FIELD FIELD
#define VFIO_FIELD_ARRAY FIELD_ARRAY
#define VFIO_FIELD_RECORD FIELD_RECORD
#define VFIO_FIELD_PTR FIELD_PTR
#define VFIO_FIELD_FLEX FIELD_FLEX
#define VFIO_ENUM ENUM
#define VFIO_CONST CONST
#define VFIO_CONST_AS(c, ours) ABI_CONST_FACTS(c, #c, #c)
#define VFIO_IOCTL IOCTL
#endif

const struct abi_fact ABI_TABLE[] = {
#include "abi_list.h"
};
const size_t ABI_NFACTS = sizeof(ABI_TABLE) / sizeof(ABI_TABLE[0]);
