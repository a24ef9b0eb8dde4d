import type {
  CatalogAdminService,
  CatalogService,
  Placement,
  PlacementLayout,
  PlacementView,
} from '#polystore/catalog';

/** Where a move stands with respect to its catalog write. */
export type SwitchState = 'before-switch' | 'switched' | 'switch-unknown';

/**
 * The catalog write of a move: the placement gets the target server, layout and `version + 1`, only if
 * its version is still the one the move started from. If the outcome is lost (the catalog
 * connection broke around the commit), the placement is read again: switched means done,
 * unchanged means abort (the error is rethrown), and anything else is `unknown(cause)`, thrown
 * after `onState('switch-unknown')`: the caller must leave the old copy closed.
 */
export async function switchPlacement(
  catalogAdmin: CatalogAdminService,
  catalog: CatalogService,
  placement: Placement,
  to: string,
  layout: PlacementLayout,
  targetId: string,
  onState: (state: SwitchState) => void,
  unknown: (cause: unknown) => Error,
): Promise<PlacementView | Placement> {
  const { tenant, store, version } = placement;
  try {
    const after = await catalogAdmin.movePlacement(tenant, store, to, version, layout);
    onState('switched');
    return after;
  } catch (error) {
    const now = await catalog.getPlacementFresh(tenant, store).catch(() => undefined);
    if (now?.version === version + 1 && now.serverId === targetId) {
      onState('switched');
      return now;
    }
    if (now?.version === version) throw error;
    onState('switch-unknown');
    throw unknown(error);
  }
}
