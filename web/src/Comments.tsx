import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, listAll } from './api';
import { commentIdOf, type Comment } from './types';
import { Empty, ErrorMessage, formatTime, Loading, useSession } from './ui';

// Comments on a task (issue 11): GET/POST /tasks/{id}/comments, PATCH/DELETE /tasks/{id}/comments/{commentId} with
// the comment's version; the API checks who may read, write and edit (the author edits, admins delete).

export function Comments({ taskId }: { taskId: string }) {
  const { api, userId } = useSession();
  const [comments, setComments] = useState<Comment[] | null>(null);
  const [body, setBody] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setComments(await listAll<Comment>(api, `/tasks/${taskId}/comments`));
    } catch (caught) {
      setError(caught);
      setComments([]);
    }
  }, [api, taskId]);

  useEffect(() => {
    void load();
  }, [load]);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api.post<Comment>(`/tasks/${taskId}/comments`, { body });
      setComments((current) => [...(current ?? []), created]);
      setBody('');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const [editing, setEditing] = useState<{ id: string; body: string } | null>(null);

  const saveEdit = async (comment: Comment) => {
    if (!editing) return;
    setError(null);
    try {
      const saved = await api.patch<Comment>(`/tasks/${taskId}/comments/${commentIdOf(comment)}`, { body: editing.body, version: comment.version });
      setComments((current) => (current ?? []).map((c) => (commentIdOf(c) === commentIdOf(comment) ? saved : c)));
      setEditing(null);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 409) {
        setError(new Error('This comment was changed elsewhere; the latest version is shown. Edit it again to apply yours.'));
        setEditing(null);
        void load();
      } else setError(caught);
    }
  };

  const remove = async (comment: Comment) => {
    try {
      await api.delete(`/tasks/${taskId}/comments/${commentIdOf(comment)}`);
      setComments((current) => (current ?? []).filter((c) => commentIdOf(c) !== commentIdOf(comment)));
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section className="comments" aria-labelledby={`comments-${taskId}`}>
      <h3 id={`comments-${taskId}`}>Comments</h3>
      {comments === null ? (
        <Loading what="comments" />
      ) : (
        <>
          {comments.length === 0 ? <Empty title="No comments yet">Be the first to add one.</Empty> : null}
          <ol className="comment-list">
            {comments.map((comment) => (
              <li key={commentIdOf(comment)}>
                {editing?.id === commentIdOf(comment) ? (
                  <div className="comment-form">
                    <label>
                      Edit your comment
                      <textarea value={editing.body} onChange={(e) => setEditing({ id: editing.id, body: e.target.value })} rows={2} maxLength={5000} />
                    </label>
                    <div className="actions">
                      <button type="button" className="primary" onClick={() => void saveEdit(comment)} disabled={!editing.body.trim()}>
                        Save comment
                      </button>
                      <button type="button" onClick={() => setEditing(null)}>
                        Cancel edit
                      </button>
                    </div>
                  </div>
                ) : (
                  <p className="comment-body">{comment.body}</p>
                )}
                <p className="meta">
                  {comment.authorId === userId ? 'You' : 'A member'} · {formatTime(comment.createdAt)}
                  {comment.updatedAt !== comment.createdAt ? ' · edited' : ''}
                  {comment.authorId === userId ? (
                    <>
                      <button type="button" className="link" onClick={() => setEditing({ id: commentIdOf(comment), body: comment.body })}>
                        Edit comment
                      </button>
                      <button type="button" className="link" onClick={() => void remove(comment)}>
                        Delete comment
                      </button>
                    </>
                  ) : null}
                </p>
              </li>
            ))}
          </ol>
          <form onSubmit={add} className="comment-form">
            <label>
              Add a comment
              <textarea value={body} onChange={(e) => setBody(e.target.value)} required maxLength={5000} rows={2} />
            </label>
            <button type="submit" disabled={busy || !body.trim()}>
              {busy ? 'Posting…' : 'Post comment'}
            </button>
          </form>
        </>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}
