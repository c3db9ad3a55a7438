package controller

// The status conditions of the workload kinds are distinct types with the
// same shape; typeOf reads a condition's type. These are upstream's per-kind
// GetCondition and filterOutCondition (pkg/controller/replicaset,
// pkg/controller/deployment/util) written once.

// GetCondition returns a copy of the first condition of type t in conds, or
// nil.
func GetCondition[C any, T comparable](conds []C, t T, typeOf func(*C) T) *C {
	for _, c := range conds {
		if typeOf(&c) == t {
			return &c
		}
	}
	return nil
}

// FilterOutCondition returns a new slice of conds without those of type t
// (nil when none is left).
func FilterOutCondition[C any, T comparable](conds []C, t T, typeOf func(*C) T) []C {
	var out []C
	for _, c := range conds {
		if typeOf(&c) != t {
			out = append(out, c)
		}
	}
	return out
}
