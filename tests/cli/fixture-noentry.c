/* fixture-noentry.c - a shared object that loads but does not export
 * cove_store_entry. The loader must refuse it naming the missing symbol.
 */
int cove_store_fixture_noentry(void);

int cove_store_fixture_noentry(void)
{
        return 0;
}
