import { z } from 'zod';
import { RosTrapError } from '../ros-errors.js';
import { isAlreadyExistsTrap, isNoSuchItemTrap } from '../trap-classifier.js';
import { paramSchemas as p } from './action-params.js';
import { addedId, attributeWords, type RouterOsAction, removeRows } from './routeros-action.js';

const QUEUE = '/queue/simple';
const MAX_APPLY_ROUNDS = 3;

const setParams = z.strictObject({
  name: p.name,
  target: p.text(),
  'max-limit': p.rates,
  'limit-at': p.rates.optional(),
  'burst-limit': p.rates.optional(),
  'burst-threshold': p.rates.optional(),
  'burst-time': p.text().optional(),
  parent: p.text().optional(),
  priority: p.text().optional(),
  comment: p.comment.optional(),
  disabled: z.boolean().optional(),
});
const deleteParams = z.strictObject({ name: p.name });

/** `queue.set`: the simple queue `name` exists afterwards with the given target and limits (queues are keyed by name). */
export const queueSet: RouterOsAction<z.infer<typeof setParams>> = {
  name: 'queue.set',
  params: setParams,
  async run({ ros }, { name, ...fields }) {
    for (let round = 1; ; round++) {
      const [existing] = await ros.run(`${QUEUE}/print`, [`?name=${name}`, '=.proplist=.id']);
      try {
        if (!existing) {
          const rows = await ros.run(`${QUEUE}/add`, attributeWords({ name, ...fields }));
          return { action: 'created', id: addedId(rows) };
        }
        await ros.run(`${QUEUE}/set`, [`=.id=${existing['.id']}`, ...attributeWords(fields)]);
        return { action: 'updated', id: existing['.id'] };
      } catch (error) {
        const retryable =
          error instanceof RosTrapError &&
          (isAlreadyExistsTrap(error.trapMessage) || isNoSuchItemTrap(error.trapMessage));
        if (!retryable || round >= MAX_APPLY_ROUNDS) throw error;
      }
    }
  },
};

/** `queue.delete`: no simple queue named `name` afterwards; deleting an absent queue succeeds. */
export const queueDelete: RouterOsAction<z.infer<typeof deleteParams>> = {
  name: 'queue.delete',
  params: deleteParams,
  async run({ ros }, { name }) {
    const queues = await ros.run(`${QUEUE}/print`, [`?name=${name}`, '=.proplist=.id']);
    const ids = await removeRows(ros, QUEUE, queues);
    return { action: ids.length > 0 ? 'deleted' : 'absent', id: ids[0] };
  },
};
