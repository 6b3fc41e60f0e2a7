/* A statically linked program: `softiommu run` must refuse it (the
 * dynamic loader, which applies LD_PRELOAD, never runs for it). */
int main(void)
{
	return 0;
}
