import { z } from 'zod';
import { RosTrapError } from '../ros-errors.js';
import { isAlreadyExistsTrap } from '../trap-classifier.js';
import { paramSchemas as p } from './action-params.js';
import { addedId, attributeWords, type RouterOsAction, removeRows } from './routeros-action.js';

const ADDRESS_LIST = '/ip/firewall/address-list';

const addParams = z.strictObject({
  list: p.text(),
  address: p.text(),
  comment: p.comment.optional(),
  /** RouterOS duration (`1d`, `12h`); such entries are dynamic and lost at reboot. */
  timeout: p.text().optional(),
});
const removeParams = z.strictObject({ list: p.text(), address: p.text() });

/** `address-list.add`: the (list, address) entry exists afterwards; an existing one is left as is. */
export const addressListAdd: RouterOsAction<z.infer<typeof addParams>> = {
  name: 'address-list.add',
  params: addParams,
  async run({ ros }, { list, address, comment, timeout }) {
    const find = () =>
      ros.run(`${ADDRESS_LIST}/print`, [`?list=${list}`, `?address=${address}`, '=.proplist=.id']);
    const [existing] = await find();
    if (existing) return { action: 'unchanged', id: existing['.id'] };
    try {
      const rows = await ros.run(`${ADDRESS_LIST}/add`, attributeWords({ list, address, comment, timeout }));
      return { action: 'created', id: addedId(rows) };
    } catch (error) {
      if (!(error instanceof RosTrapError && isAlreadyExistsTrap(error.trapMessage))) throw error;
      const [raced] = await find();
      return { action: 'unchanged', id: raced?.['.id'] };
    }
  },
};

/** `address-list.remove`: no (list, address) entry afterwards; removing an absent one succeeds. */
export const addressListRemove: RouterOsAction<z.infer<typeof removeParams>> = {
  name: 'address-list.remove',
  params: removeParams,
  async run({ ros }, { list, address }) {
    const entries = await ros.run(`${ADDRESS_LIST}/print`, [
      `?list=${list}`,
      `?address=${address}`,
      '=.proplist=.id',
    ]);
    const ids = await removeRows(ros, ADDRESS_LIST, entries);
    return { action: ids.length > 0 ? 'deleted' : 'absent', id: ids[0] };
  },
};
